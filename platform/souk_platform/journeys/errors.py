"""Errors of the journeys domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class JourneyNotFound(NotFound):
    code = "journey-not-found"
    title = "No such journey"


class TemplateNotFound(NotFound):
    code = "journey-template-not-found"
    title = "No such journey template"


class InvalidGraph(Unprocessable):
    """The graph breaks a rule of docs/architecture.md §5.12; ``errors`` names each bad node by its path."""

    code = "invalid-journey-graph"
    title = "The journey's graph is not valid"


class InvalidJourney(Unprocessable):
    code = "invalid-journey"
    title = "The journey is not valid"


class JourneyStateConflict(InvalidState):
    code = "journey-state-conflict"
    title = "The journey is not in a state that allows this"


class JourneyNotDraft(Conflict):
    code = "journey-not-draft"
    title = "Only a draft journey can be deleted: archive it instead"
