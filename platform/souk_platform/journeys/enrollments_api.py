"""Where each customer is in a journey and why, taking one out by hand, and the journey's report
(docs/architecture.md §5.12)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import current_principal, etag, page_of, page_schema, paginated, requires, transactional
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.db import db
from souk_platform.journeys.engine import enrollments
from souk_platform.journeys.engine.schemas import EnrollmentQuerySchema, JourneyEnrollmentSchema, JourneyReportSchema
from souk_platform.journeys.models import JourneyEnrollment
from souk_platform.journeys.report import journey_report

blp = Blueprint(
    "journey_enrollments",
    __name__,
    url_prefix="/journeys",
    description="Journeys' enrolments (where each customer is and why) and reports",
)


@blp.route("/<journey_id>/enrollments")
class EnrollmentList(MethodView):
    @requires("read_journeys")
    @blp.arguments(EnrollmentQuerySchema, location="query")
    @blp.response(200, page_schema(JourneyEnrollmentSchema))
    def get(self, args: dict[str, Any], journey_id: str) -> Any:
        """Customers in a journey, newest first: where each is, why, and the latest steps; filter by status,
        node or customer"""
        stmt = enrollments.enrollments_stmt(
            db.session,
            shop_id=current_principal().shop_id,
            journey_id=journey_id,
            status=args.pop("status"),
            node=args.pop("node"),
            customer_id=args.pop("customer_id"),
        )
        page = page_of(db.session, stmt, JourneyEnrollment.id, **args)
        body, status, headers = paginated(page)
        body["items"] = enrollments.enrollment_views(db.session, page.items)
        return body, status, headers


@blp.route("/<journey_id>/enrollments/<enrollment_id>")
class EnrollmentResource(MethodView):
    @requires("read_journeys")
    @blp.response(200, JourneyEnrollmentSchema)
    def get(self, journey_id: str, enrollment_id: str) -> Any:
        """One enrolment with every step it took"""
        enrollment = enrollments.get_enrollment(
            db.session, shop_id=current_principal().shop_id, journey_id=journey_id, enrollment_id=enrollment_id
        )
        view = enrollments.enrollment_views(db.session, [enrollment], last_steps=None)[0]
        return view, 200, etag(enrollment.version)


@blp.route("/<journey_id>/enrollments/<enrollment_id>/exit")
class EnrollmentExit(MethodView):
    @requires("write_journeys")
    @transactional
    @blp.response(200, JourneyEnrollmentSchema)
    @blp.alt_response(409, description="The enrolment has already left the journey")
    def post(self, journey_id: str, enrollment_id: str) -> Any:
        """Take a customer out of the journey by hand (journey.exited, reason manual)"""
        enrollment = enrollments.exit_by_hand(
            db.session,
            shop_id=current_principal().shop_id,
            journey_id=journey_id,
            enrollment_id=enrollment_id,
            now=app_now(),
        )
        view = enrollments.enrollment_views(db.session, [enrollment], last_steps=None)[0]
        return view, 200, etag(enrollment.version)


@blp.route("/<journey_id>/report")
class Report(MethodView):
    @requires("read_journeys")
    @blp.response(200, JourneyReportSchema)
    def get(self, journey_id: str) -> Any:
        """Per node entered, waiting and exited; per variant conversions, revenue and uplift against the holdout
        (95 % confidence interval, two-proportion z-test)"""
        return journey_report(db.session, shop_id=current_principal().shop_id, journey_id=journey_id)
