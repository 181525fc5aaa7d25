"""Errors of the benefits domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class PackageNotFound(NotFound):
    code = "benefit-package-not-found"
    title = "No such benefit package"


class GrantNotFound(NotFound):
    code = "benefit-grant-not-found"
    title = "No such benefit grant"


class InvalidPackage(Unprocessable):
    code = "invalid-benefit-package"
    title = "The benefit package is not valid"


class InvalidGrant(Unprocessable):
    code = "invalid-benefit-grant"
    title = "The grant cannot be made"


class PackageDisabled(Conflict):
    code = "benefit-package-disabled"
    title = "The benefit package is disabled"


class PackageInUse(Conflict):
    code = "benefit-package-in-use"
    title = "The package has been granted: disable it instead"


class GrantNotActive(InvalidState):
    code = "benefit-grant-not-active"
    title = "The grant is no longer active"
