"""Risk control (风控): decisions, block/allow lists, reviews and settings (docs/architecture.md §5.13)."""

from __future__ import annotations

from typing import Any

from flask.blueprints import BlueprintSetupState
from flask.views import MethodView

from souk_platform.api import (
    current_principal,
    etag,
    expected_version,
    idempotent,
    page_of,
    page_schema,
    paginated,
    requires,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.core.errors import PreconditionRequired
from souk_platform.db import db
from souk_platform.risk import decision_log, services
from souk_platform.risk.models import RiskDecision, RiskListEntry, RiskReview
from souk_platform.risk.schemas import (
    RiskDashboardQuerySchema,
    RiskDashboardSchema,
    RiskDecisionQuerySchema,
    RiskDecisionSchema,
    RiskListEntrySchema,
    RiskListEntryUpdateSchema,
    RiskListQuerySchema,
    RiskReplayRequestSchema,
    RiskReplaySchema,
    RiskReviewCloseSchema,
    RiskReviewQuerySchema,
    RiskReviewSchema,
    RiskSettingsSchema,
)
from souk_platform.shops.services import get_shop

blp = Blueprint(
    "risk",
    __name__,
    url_prefix="/risk",
    description="Risk control (风控): every decision recorded, block/allow lists, orders held for review, thresholds",
)


@blp.record_once
def _install_session_hooks(state: BlueprintSetupState) -> None:
    decision_log.install()  # a denial's record survives the rollback of what it denied


@blp.route("/decisions")
class DecisionList(MethodView):
    @requires("read_risk")
    @blp.arguments(RiskDecisionQuerySchema, location="query")
    @blp.response(200, page_schema(RiskDecisionSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Every risk decision, newest first; filter by outcome, rule, action, customer or IP"""
        stmt = services.decisions_stmt(
            current_principal().shop_id,
            outcome=args.pop("outcome"),
            rule=args.pop("rule"),
            action=args.pop("action"),
            customer_id=args.pop("customer_id"),
            ip=args.pop("ip"),
        )
        page = page_of(db.session, stmt, RiskDecision.id, **args)
        return paginated(page, view=services.decision_view)


@blp.route("/decisions/<decision_id>")
class DecisionResource(MethodView):
    @requires("read_risk")
    @blp.response(200, RiskDecisionSchema)
    def get(self, decision_id: str) -> Any:
        """One decision with the rules that fired, their figures and the inputs to replay it"""
        return services.decision_view(
            services.get_decision(db.session, shop_id=current_principal().shop_id, decision_id=decision_id)
        )


@blp.route("/lists")
class ListEntries(MethodView):
    @requires("read_risk")
    @blp.arguments(RiskListQuerySchema, location="query")
    @blp.response(200, page_schema(RiskListEntrySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Block and allow list entries (customers, IPs, device ids), newest first"""
        stmt = services.entries_stmt(
            current_principal().shop_id, list_name=args.pop("list"), kind=args.pop("kind"), value=args.pop("value")
        )
        page = page_of(db.session, stmt, RiskListEntry.id, **args)
        now = app_now()
        return paginated(page, view=lambda e: services.entry_view(e, now))

    @requires("write_risk")
    @transactional
    @blp.arguments(RiskListEntrySchema)
    @blp.response(201, RiskListEntrySchema)
    @blp.alt_response(409, description="The value is already on that list")
    def post(self, fields: dict[str, Any]) -> Any:
        """Put a customer, IP or device id on the block or allow list (an allow entry wins over every rule)"""
        now = app_now()
        entry = services.create_entry(db.session, shop_id=current_principal().shop_id, fields=fields, now=now)
        return services.entry_view(entry, now), 201, etag(entry.version)


@blp.route("/lists/<entry_id>")
class ListEntryResource(MethodView):
    @requires("read_risk")
    @blp.response(200, RiskListEntrySchema)
    def get(self, entry_id: str) -> Any:
        """One list entry"""
        entry = services.get_entry(db.session, shop_id=current_principal().shop_id, entry_id=entry_id)
        return services.entry_view(entry, app_now()), 200, etag(entry.version)

    @requires("write_risk")
    @transactional
    @blp.arguments(RiskListEntryUpdateSchema)
    @blp.response(200, RiskListEntrySchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, changes: dict[str, Any], entry_id: str) -> Any:
        """Change an entry's note or expiry"""
        now = app_now()
        entry = services.update_entry(
            db.session,
            shop_id=current_principal().shop_id,
            entry_id=entry_id,
            changes=changes,
            now=now,
            expected_version=expected_version(),
        )
        return services.entry_view(entry, now), 200, etag(entry.version)

    @requires("write_risk")
    @transactional
    @blp.response(204)
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, entry_id: str) -> Any:
        """Take an entry off its list"""
        services.delete_entry(
            db.session, shop_id=current_principal().shop_id, entry_id=entry_id, expected_version=expected_version()
        )
        return None


@blp.route("/reviews")
class ReviewList(MethodView):
    @requires("read_risk")
    @blp.arguments(RiskReviewQuerySchema, location="query")
    @blp.response(200, page_schema(RiskReviewSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Orders held for review, newest first; filter by status (open, approved, rejected) or customer"""
        stmt = services.reviews_stmt(
            current_principal().shop_id, status=args.pop("status"), customer_id=args.pop("customer_id")
        )
        page = page_of(db.session, stmt, RiskReview.id, **args)
        return paginated(page, view=services.review_view)


@blp.route("/reviews/<review_id>")
class ReviewResource(MethodView):
    @requires("read_risk")
    @blp.response(200, RiskReviewSchema)
    def get(self, review_id: str) -> Any:
        """One review"""
        review = services.get_review(db.session, shop_id=current_principal().shop_id, review_id=review_id)
        return services.review_view(review), 200, etag(review.version)


@blp.route("/reviews/<review_id>/approve")
class ReviewApprove(MethodView):
    @requires("write_risk")
    @idempotent
    @blp.arguments(RiskReviewCloseSchema)
    @blp.response(200, RiskReviewSchema)
    @blp.alt_response(409, description="The review was already closed")
    def post(self, body: dict[str, Any], review_id: str) -> Any:
        """Approve: the held order awaits payment from now (send an Idempotency-Key)"""
        review = services.approve_review(
            db.session,
            shop_id=current_principal().shop_id,
            review_id=review_id,
            now=app_now(),
            note=body["note"],
            expected_version=expected_version(),
        )
        return services.review_view(review), 200, etag(review.version)


@blp.route("/reviews/<review_id>/reject")
class ReviewReject(MethodView):
    @requires("write_risk")
    @idempotent
    @blp.arguments(RiskReviewCloseSchema)
    @blp.response(200, RiskReviewSchema)
    @blp.alt_response(409, description="The review was already closed")
    def post(self, body: dict[str, Any], review_id: str) -> Any:
        """Reject: the held order is cancelled, stock, coupons, points and stored value go back (Idempotency-Key)"""
        review = services.reject_review(
            db.session,
            shop_id=current_principal().shop_id,
            review_id=review_id,
            now=app_now(),
            note=body["note"],
            expected_version=expected_version(),
        )
        return services.review_view(review), 200, etag(review.version)


@blp.route("/settings")
class Settings(MethodView):
    @requires("read_risk")
    @blp.response(200, RiskSettingsSchema)
    def get(self) -> Any:
        """Each built-in rule's threshold, window and outcome, and the review expiry rule"""
        shop = get_shop(db.session, current_principal().shop_id)
        return services.risk_settings_view(shop), 200, etag(shop.version)

    @requires("write_risk")
    @transactional
    @blp.arguments(RiskSettingsSchema)
    @blp.response(200, RiskSettingsSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    @blp.alt_response(428, description="If-Match is required")
    def put(self, fields: dict[str, Any]) -> Any:
        """Change thresholds, windows and outcomes of the rules given, and the review expiry (If-Match required)"""
        version = expected_version()
        if version is None:
            raise PreconditionRequired('Send If-Match with the version you read (GET /risk/settings), like "3".')
        shop = services.update_risk_settings(
            db.session, shop_id=current_principal().shop_id, fields=fields, expected_version=version
        )
        return services.risk_settings_view(shop), 200, etag(shop.version)


@blp.route("/dashboard")
class Dashboard(MethodView):
    @requires("read_risk")
    @blp.arguments(RiskDashboardQuerySchema, location="query")
    @blp.response(200, RiskDashboardSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Decisions per local day by outcome, the rules that fired most, the IPs and customers most often denied
        or held, and the open review queue"""
        shop = get_shop(db.session, current_principal().shop_id)
        return services.risk_dashboard(db.session, shop=shop, days=args["days"], now=app_now())


@blp.route("/replay")
class Replay(MethodView):
    @requires("read_risk")
    @blp.arguments(RiskReplayRequestSchema)
    @blp.response(200, RiskReplaySchema)
    def post(self, body: dict[str, Any]) -> Any:
        """What changed thresholds would have decided: a day's (or a period's) recorded decisions replayed,
        counted per change of outcome and per rule, with a sample. Writes nothing"""
        shop = get_shop(db.session, current_principal().shop_id)
        start, end = services.replay_period(shop, now=app_now(), day=body["date"], start=body["from"], end=body["to"])
        return services.replay_thresholds(db.session, shop=shop, thresholds=body["thresholds"], start=start, end=end)
