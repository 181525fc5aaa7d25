"""Schemas of the enrolments API and the journey report (docs/architecture.md §5.12)."""

from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs
from souk_platform.journeys.models import ENROLLMENT_STATUSES, STEP_STATUSES
from souk_platform.messaging.schemas import MessageFiguresSchema


class EnrollmentQuerySchema(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ENROLLMENT_STATUSES))
    node = ma.fields.String(load_default=None, metadata={"description": "Only enrolments now at this node id"})
    customer_id = ma.fields.String(load_default=None)


class JourneyStepSchema(ma.Schema):
    seq = ma.fields.Integer()
    node_id = ma.fields.String()
    node_type = ma.fields.String()
    status = ma.fields.String(metadata={"description": "done, skipped or failed", "enum": list(STEP_STATUSES)})
    exit_taken = ma.fields.String(
        allow_none=True, metadata={"description": "default, yes/no, event/timeout, a variant key or holdout"}
    )
    outcome = ma.fields.Dict(metadata={"description": "What the step did (a wallet coupon, a grant…) or why not"})
    created_at = ma.fields.DateTime()


class JourneyEnrollmentSchema(ma.Schema):
    id = ma.fields.String()
    journey_id = ma.fields.String()
    version_id = ma.fields.String()
    customer_id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(ENROLLMENT_STATUSES)})
    current_node = ma.fields.String(metadata={"description": "Where the customer is (or left the journey)"})
    variant = ma.fields.String(allow_none=True, metadata={"description": "The split branch taken, or holdout"})
    wake_at = ma.fields.DateTime(allow_none=True, metadata={"description": "When a wait ends (or times out)"})
    waiting_event = ma.fields.String(allow_none=True, metadata={"description": "The event a wait is waiting for"})
    why = ma.fields.String(metadata={"description": "Why the customer is where they are, in a few words"})
    entry_key = ma.fields.String()
    steps_taken = ma.fields.Integer()
    entered_at = ma.fields.DateTime()
    exited_at = ma.fields.DateTime(allow_none=True)
    exit_reason = ma.fields.String(
        allow_none=True, metadata={"description": "completed, goal, exit_rule, manual or archived"}
    )
    goal_reached_at = ma.fields.DateTime(allow_none=True)
    goal_revenue = ma.fields.Integer(metadata={"description": "The goal event's order total, fen"})
    steps = ma.fields.List(
        ma.fields.Nested(JourneyStepSchema),
        metadata={"description": "The latest steps in a list, every step for one enrolment"},
    )
    version = ma.fields.Integer()


class NodeCountsSchema(ma.Schema):
    node_id = ma.fields.String()
    type = ma.fields.String(allow_none=True)
    entered = ma.fields.Integer(metadata={"description": "Visits of the node (customers inside it included)"})
    waiting = ma.fields.Integer(metadata={"description": "Customers in the node now"})
    exited = ma.fields.Integer(metadata={"description": "Customers who left the journey at this node"})


class UpliftSchema(ma.Schema):
    difference = ma.fields.Float(metadata={"description": "Conversion rate minus the holdout's"})
    relative = ma.fields.Float(allow_none=True, metadata={"description": "difference / the holdout's rate"})
    standard_error = ma.fields.Float()
    ci_low = ma.fields.Float()
    ci_high = ma.fields.Float()
    confidence = ma.fields.Float()
    z = ma.fields.Float(allow_none=True)
    p_value = ma.fields.Float(allow_none=True, metadata={"description": "Two-proportion z-test, two-sided"})
    significant = ma.fields.Boolean()


class VariantReportSchema(ma.Schema):
    variant = ma.fields.String()
    enrolled = ma.fields.Integer()
    converted = ma.fields.Integer()
    conversion_rate = ma.fields.Float()
    revenue = ma.fields.Integer(metadata={"description": "Goal revenue, fen"})
    revenue_per_enrollment = ma.fields.Float()
    uplift = ma.fields.Nested(UpliftSchema, allow_none=True)


class ReportTotalsSchema(ma.Schema):
    enrolled = ma.fields.Integer()
    inside = ma.fields.Integer()
    completed = ma.fields.Integer()
    exited = ma.fields.Integer()
    converted = ma.fields.Integer()
    revenue = ma.fields.Integer()


class JourneyReportSchema(ma.Schema):
    journey_id = ma.fields.String()
    status = ma.fields.String()
    totals = ma.fields.Nested(ReportTotalsSchema)
    nodes = ma.fields.List(ma.fields.Nested(NodeCountsSchema))
    variants = ma.fields.List(ma.fields.Nested(VariantReportSchema))
    messages = ma.fields.Nested(
        MessageFiguresSchema, metadata={"description": "The messages its enrolments were sent, by status, with rates"}
    )
