"""Request and response shapes of the journeys API (docs/architecture.md §5.12)."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.journeys.models import JOURNEY_STATUSES

_GRAPH_DOC = (
    'The graph: {"entry", "nodes": {id: {"type", "params", "next": {exit: node id}, "position": {x, y}, "label"}}, '
    '"goal", "exit", "settings"} (docs/architecture.md §5.12). A draft may be saved incomplete; an active or '
    "paused journey's graph must be valid, and a change to it becomes a new version."
)
_PROBLEMS_DOC = (
    "What keeps the graph from being valid, by path (nodes.wait1.params.seconds, nodes.cond.next.no); "
    "empty when it may be activated. Placeholders a template left for you are listed here."
)


class JourneySchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "draft, active, paused or archived"})
    template_key = ma.fields.String(allow_none=True, metadata={"description": "The template it was made from"})
    graph = ma.fields.Dict(metadata={"description": _GRAPH_DOC})
    current_version_id = ma.fields.String(
        allow_none=True, metadata={"description": "The version new enrolments take (null before activation)"}
    )
    current_version_number = ma.fields.Integer(allow_none=True)
    valid = ma.fields.Boolean()
    problems = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), metadata={"description": _PROBLEMS_DOC}
    )
    version = ma.fields.Integer()
    activated_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime(allow_none=True)


class JourneyCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 100))
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    graph = ma.fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={"description": _GRAPH_DOC + " Left out: a trigger on order.paid leading to an exit."},
    )


class JourneyUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(1, 100))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))
    graph = ma.fields.Dict(metadata={"description": _GRAPH_DOC})


class JourneyQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(JOURNEY_STATUSES))


class JourneyVersionSchema(ma.Schema):
    id = ma.fields.String()
    journey_id = ma.fields.String()
    number = ma.fields.Integer(metadata={"description": "1, 2, … in the order they were frozen"})
    graph = ma.fields.Dict(metadata={"description": "The frozen graph; a version never changes"})
    created_at = ma.fields.DateTime()


class ValidateRequestSchema(ma.Schema):
    graph = ma.fields.Dict(
        load_default=None, allow_none=True, metadata={"description": "A graph to check; left out: the journey's own"}
    )


class ValidationResultSchema(ma.Schema):
    valid = ma.fields.Boolean()
    problems = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), metadata={"description": _PROBLEMS_DOC}
    )


class JourneyTemplateSchema(ma.Schema):
    key = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    description_zh = ma.fields.String()
    description_en = ma.fields.String()
    graph = ma.fields.Dict(
        metadata={"description": "The template's graph; references left null are placeholders to fill in the draft"}
    )


class JourneyTemplateListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(JourneyTemplateSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True, metadata={"description": "Always null"})


class TemplateDraftSchema(ma.Schema):
    name = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(1, 100),
        metadata={"description": "Left out: the template's name in the chosen language"},
    )
    language = ma.fields.String(
        load_default="en",
        validate=ma.validate.OneOf(("en", "zh")),
        metadata={"description": "The language of the draft's default name and description"},
    )
