from __future__ import annotations

from souk_platform.core.errors import Forbidden, InvalidState, NotFound, Unprocessable


class InstallationNotFound(NotFound):
    code = "installation-not-found"
    title = "No such installation"


class InstallationNotActive(InvalidState):
    code = "installation-not-active"
    title = "The installation is already uninstalled"


class OwnerOnly(Forbidden):
    code = "owner-only"
    title = "Only a shop owner may do this"


class AppNotInstallable(InvalidState):
    code = "app-not-installable"
    title = "The app cannot be installed"


class ScopesNotOffered(Unprocessable):
    code = "scope-not-offered"
    title = "The app does not ask for this scope"
