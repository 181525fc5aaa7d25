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
