"""Service-market problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class ServiceNotFound(NotFound):
    code = "service-not-found"
    title = "No such service"


class ProviderNotFound(NotFound):
    code = "provider-not-found"
    title = "No such service provider"


class PackageNotFound(NotFound):
    code = "package-not-found"
    title = "No such service package"


class ServiceOrderNotFound(NotFound):
    code = "service-order-not-found"
    title = "No such service order"


class ServiceFileNotFound(NotFound):
    code = "service-file-not-found"
    title = "No such file on this order"


class PortfolioItemNotFound(NotFound):
    code = "portfolio-item-not-found"
    title = "No such portfolio item"


class IllegalTransition(InvalidState):
    """The state table does not allow this move from the order's state (409 ``invalid-state-transition``)."""


class NotYourMove(Conflict):
    code = "not-your-move"
    title = "This party may not make this move"


class NotOverdue(Conflict):
    code = "service-order-not-overdue"
    title = "The order is not overdue by more than 24 hours"


class RevisionLimitReached(Conflict):
    code = "revision-limit-reached"
    title = "Every revision the package includes has been used"


class ExtensionConflict(Conflict):
    code = "extension-conflict"
    title = "The extension request cannot be made or answered now"


class OfferConflict(Conflict):
    code = "dispute-offer-conflict"
    title = "There is no such standing offer to accept"


class AlreadyRated(Conflict):
    code = "already-rated"
    title = "This order has been rated already"


class InvalidService(Unprocessable):
    code = "service-invalid"
    title = "The service is not valid"


class InvalidProvider(Unprocessable):
    code = "provider-invalid"
    title = "The provider profile is not valid"


class InvalidServiceOrder(Unprocessable):
    code = "service-order-invalid"
    title = "The service order request is not valid"


class InvalidFile(Unprocessable):
    code = "service-file-invalid"
    title = "The file cannot be accepted"
