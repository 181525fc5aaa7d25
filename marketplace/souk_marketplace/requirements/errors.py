"""Crowdfunding problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, Forbidden, InvalidState, NotFound, Unprocessable


class RequirementNotFound(NotFound):
    code = "requirement-not-found"
    title = "No such requirement"


class PledgeNotFound(NotFound):
    code = "pledge-not-found"
    title = "No such pledge"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"
    title = "No such proposal"


class IllegalTransition(InvalidState):
    """The requirement's state table does not allow this move (code ``invalid-state-transition``)."""


class RequirementInvalid(Unprocessable):
    code = "requirement-invalid"
    title = "The requirement is not valid"


class PledgeInvalid(Unprocessable):
    code = "pledge-invalid"
    title = "The pledge is not valid"


class ProposalInvalid(Unprocessable):
    code = "proposal-invalid"
    title = "The proposal is not valid"


class DeliveryInvalid(Unprocessable):
    code = "delivery-invalid"
    title = "The delivery is not valid"


class PledgeLocked(Conflict):
    code = "pledge-locked"
    title = "The pledge can no longer be withdrawn"


class ProposalOverBudget(Conflict):
    code = "proposal-over-pledged-total"
    title = "The proposal's price is more than has been pledged"


class NotABacker(Forbidden):
    code = "not-a-backer"
    title = "Only shops with an active pledge may vote"


class NotTheOwner(Forbidden):
    code = "not-the-owner"
    title = "Only the shop that posted the requirement may do this"


class VotingMode(Conflict):
    code = "wrong-selection-mode"
    title = "This requirement picks its proposal another way"


class DuplicateProposal(Conflict):
    code = "proposal-exists"
    title = "You already have an open proposal on this requirement"


class MergeInvalid(Conflict):
    code = "merge-invalid"
    title = "These requirements cannot be merged"


class NotOpen(InvalidState):
    code = "requirement-not-open"
    title = "The requirement does not take this now"
