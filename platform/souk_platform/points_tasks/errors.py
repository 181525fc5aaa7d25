"""Errors of points operations: tasks, completions, sign-ins, the policy (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class TaskNotFound(NotFound):
    code = "points-task-not-found"
    title = "No such points task"


class CompletionNotFound(NotFound):
    code = "points-task-completion-not-found"
    title = "No such completion of this task"


class InvalidTask(Unprocessable):
    code = "invalid-points-task"
    title = "The points task is not valid"


class InvalidCompletion(Unprocessable):
    code = "invalid-points-task-completion"
    title = "The completion is not valid"


class SignInTaskExists(Conflict):
    code = "sign-in-task-exists"
    title = "The shop already has a daily sign-in task"


class TaskInUse(Conflict):
    code = "points-task-in-use"
    title = "The task has completions: pause it instead"


class TaskAutomatic(Conflict):
    code = "points-task-automatic"
    title = "This task is completed by the platform, not by a request"


class TaskNotOpen(Conflict):
    code = "points-task-not-open"
    title = "The task is paused or outside its window"


class TaskNotMet(Conflict):
    code = "points-task-not-met"
    title = "The customer has not done what the task asks"


class AlreadyCompleted(Conflict):
    code = "points-task-already-completed"
    title = "The customer already completed this task in this period"


class ReferenceUsed(Conflict):
    code = "points-task-reference-used"
    title = "This reference was already rewarded by this task"


class CapReached(Conflict):
    code = "points-task-cap-reached"
    title = "The customer reached the task's cap"


class AlreadySignedIn(Conflict):
    code = "already-signed-in"
    title = "The customer already signed in today"


class SignInNotOffered(Conflict):
    code = "sign-in-not-offered"
    title = "The shop has no daily sign-in task"


class CompletionClosed(InvalidState):
    code = "points-task-completion-closed"
    title = "The completion is not waiting for review"


class RiskDenied(Unprocessable):
    """Risk control denied the action; ``rule`` and ``decision_id`` say why and where it is recorded."""

    code = "risk-denied"
    title = "Refused by risk control"
