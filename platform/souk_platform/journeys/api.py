"""Journeys (营销画布): definitions, their versions and lifecycle, and the template gallery
(docs/architecture.md §5.12). Enrolments and the report are the engine's (``enrollments_api.py``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.pagination import PageArgs
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.journeys import services
from souk_platform.journeys.models import Journey, JourneyVersion
from souk_platform.journeys.schemas import (
    JourneyCreateSchema,
    JourneyQuerySchema,
    JourneySchema,
    JourneyTemplateListSchema,
    JourneyTemplateSchema,
    JourneyUpdateSchema,
    JourneyVersionSchema,
    TemplateDraftSchema,
    ValidateRequestSchema,
    ValidationResultSchema,
)
from souk_platform.journeys.templates import TEMPLATES, get_template, template_view

blp = Blueprint(
    "journeys",
    __name__,
    url_prefix="",  # two collections: /journeys and /journey-templates
    description="Journeys (营销画布): flows of waits, conditions, splits and actions",
)


def _view(journey: Journey) -> Any:
    return services.journey_view(db.session, journey), 200, etag(journey.version)


@blp.route("/journeys")
class JourneyList(MethodView):
    @requires("read_journeys")
    @blp.arguments(JourneyQuerySchema, location="query")
    @blp.response(200, page_schema(JourneySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's journeys, newest first; filter by status"""
        stmt = services.journeys_stmt(current_principal().shop_id, status=args.pop("status"))
        page = page_of(db.session, stmt, Journey.id, **args)
        body, status, headers = paginated(page)
        body["items"] = services.journey_views(db.session, page.items)
        return body, status, headers

    @requires("write_journeys")
    @transactional
    @blp.arguments(JourneyCreateSchema)
    @blp.response(201, JourneySchema)
    def post(self, fields: dict[str, Any]) -> Any:
        """Create a draft journey (blank, or with a graph that may still be incomplete)"""
        journey = services.create_journey(db.session, shop_id=current_principal().shop_id, **fields)
        return services.journey_view(db.session, journey), 201, etag(journey.version)


@blp.route("/journeys/<journey_id>")
class JourneyResource(MethodView):
    @requires("read_journeys")
    @blp.response(200, JourneySchema)
    def get(self, journey_id: str) -> Any:
        """One journey, with what keeps its graph from being valid"""
        return _view(services.get_journey(db.session, shop_id=current_principal().shop_id, journey_id=journey_id))

    @requires("write_journeys")
    @transactional
    @blp.arguments(JourneyUpdateSchema)
    @blp.response(200, JourneySchema)
    @blp.alt_response(409, description="The journey is archived")
    @blp.alt_response(412, description="If-Match names a stale version")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes: dict[str, Any], journey_id: str) -> Any:
        """Change the name, description or graph (send If-Match); an active journey's new graph is a new version"""
        journey = services.update_journey(
            db.session,
            shop_id=current_principal().shop_id,
            journey_id=journey_id,
            changes=changes,
            expected_version=expected_version(),
        )
        return _view(journey)

    @requires("write_journeys")
    @transactional
    @blp.response(204)
    @blp.alt_response(409, description="Only a draft can be deleted: archive it instead")
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, journey_id: str) -> Any:
        """Delete a draft journey"""
        services.delete_journey(
            db.session, shop_id=current_principal().shop_id, journey_id=journey_id, expected_version=expected_version()
        )
        return None


def _lifecycle(action: str, summary: str) -> type[MethodView]:
    class Move(MethodView):
        @requires("write_journeys")
        @transactional
        @blp.response(200, JourneySchema)
        @blp.alt_response(409, description="The journey's status does not allow this")
        @blp.alt_response(412, description="If-Match names a stale version")
        def post(self, journey_id: str) -> Any:
            journey = services.change_status(
                db.session,
                shop_id=current_principal().shop_id,
                journey_id=journey_id,
                action=action,
                expected_version=expected_version(),
                now=app_now(),
            )
            return _view(journey)

    Move.post.__doc__ = summary
    Move.__name__ = f"Journey{action.title()}"
    return Move


blp.route("/journeys/<journey_id>/activate")(
    _lifecycle("activate", "Activate a draft: its graph must be valid (422 names each bad node); it becomes a version")
)
blp.route("/journeys/<journey_id>/pause")(
    _lifecycle("pause", "Pause an active journey: nobody enters, customers inside wait where they are")
)
blp.route("/journeys/<journey_id>/resume")(_lifecycle("resume", "Resume a paused journey"))
blp.route("/journeys/<journey_id>/archive")(
    _lifecycle("archive", "Archive a journey for good: customers inside leave it")
)


@blp.route("/journeys/<journey_id>/versions")
class JourneyVersions(MethodView):
    @requires("read_journeys")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(JourneyVersionSchema))
    def get(self, args: dict[str, Any], journey_id: str) -> Any:
        """The journey's frozen versions, newest first"""
        journey = services.get_journey(db.session, shop_id=current_principal().shop_id, journey_id=journey_id)
        page = page_of(db.session, services.versions_stmt(journey), JourneyVersion.id, **args)
        return paginated(page, view=services.version_view)


@blp.route("/journeys/<journey_id>/validate")
class JourneyValidate(MethodView):
    @requires("read_journeys")
    @blp.arguments(ValidateRequestSchema)
    @blp.response(200, ValidationResultSchema)
    def post(self, body: dict[str, Any], journey_id: str) -> Any:
        """A dry run: what would keep this graph (or the journey's own) from being activated; nothing is saved"""
        shop_id = current_principal().shop_id
        journey = services.get_journey(db.session, shop_id=shop_id, journey_id=journey_id)
        graph = body["graph"] if body.get("graph") is not None else journey.graph
        return services.validate_graph(db.session, shop_id=shop_id, graph=graph)


@blp.route("/journey-templates")
class TemplateList(MethodView):
    @requires("read_journeys")
    @blp.response(200, JourneyTemplateListSchema)
    def get(self) -> Any:
        """The template gallery (营销画布模板), in both languages; all on one page"""
        return {"items": [template_view(t) for t in TEMPLATES], "next_cursor": None}


@blp.route("/journey-templates/<key>")
class TemplateResource(MethodView):
    @requires("read_journeys")
    @blp.response(200, JourneyTemplateSchema)
    def get(self, key: str) -> Any:
        """One template"""
        return template_view(get_template(key))


@blp.route("/journey-templates/<key>/drafts")
class TemplateDrafts(MethodView):
    @requires("write_journeys")
    @transactional
    @blp.arguments(TemplateDraftSchema)
    @blp.response(201, JourneySchema)
    def post(self, body: dict[str, Any], key: str) -> Any:
        """One click: a draft journey from the template; its problems list the placeholders left to fill"""
        journey = services.create_from_template(
            db.session, shop_id=current_principal().shop_id, key=key, name=body["name"], language=body["language"]
        )
        return services.journey_view(db.session, journey), 201, etag(journey.version)
