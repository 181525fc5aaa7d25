"""Plugin problems, each with a stable problem ``type`` code."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, NotFound, Unprocessable


class PluginNotFound(NotFound):
    code = "plugin-not-found"
    title = "No such plugin"


class ActivationNotFound(NotFound):
    code = "plugin-activation-not-found"
    title = "No such plugin activation"


class InvocationNotFound(NotFound):
    code = "plugin-invocation-not-found"
    title = "No such plugin invocation"


class InvalidPluginModule(Unprocessable):
    """The uploaded bytes are not an acceptable ABI v1 module; ``module_error`` is the sandbox's code."""

    code = "plugin-module-invalid"
    title = "The plugin module is not valid"


class InvalidPlugin(Unprocessable):
    code = "plugin-invalid"
    title = "The plugin request is not valid"


class InvalidPluginConfig(Unprocessable):
    code = "plugin-config-invalid"
    title = "The plugin configuration is not valid"


class AlreadyActivated(Conflict):
    code = "plugin-already-activated"
    title = "The plugin is already activated"


class AppVersionNotFound(NotFound):
    code = "app-version-not-found"
    title = "No such app version"


class ModuleNotDeclared(Unprocessable):
    code = "app-module-not-declared"
    title = "The manifest of this version does not declare that module"


class ModuleAlreadyStored(Conflict):
    """Another module is stored at this path of the version: versions are immutable."""

    code = "app-module-already-stored"
    title = "This version already has a different module at that path"
