"""The journey engine (docs/architecture.md §5.12): intake of events and periodic triggers, advancing
enrolments step by step exactly once, goals and exits."""

from souk_platform.journeys.engine.advance import advance_batch, reach_goal, step_key, take_step, wake_on_event
from souk_platform.journeys.engine.enrol import enrol_customers, enrol_one, enrollment_payload, finish
from souk_platform.journeys.engine.intake import drain, take_behaviour_events, take_outbox_events
from souk_platform.journeys.engine.triggers import apply_segment_exits, run_periodic_triggers

__all__ = [
    "advance_batch",
    "apply_segment_exits",
    "drain",
    "enrol_customers",
    "enrol_one",
    "enrollment_payload",
    "finish",
    "reach_goal",
    "run_periodic_triggers",
    "step_key",
    "take_behaviour_events",
    "take_outbox_events",
    "take_step",
    "wake_on_event",
]
