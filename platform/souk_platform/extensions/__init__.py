"""Extension points: the named steps where shop-installed plugins will run (docs/architecture.md §7.3).

``EXTENSION_POINTS`` is the one table of points, their failure policy and merge rule;
``run_point`` runs a point: the built-in rule, then the shop's Wasm plugins (``souk_platform.plugins``).
"""

from souk_platform.extensions.services import (
    EXTENSION_POINTS,
    ExtensionPoint,
    FailurePolicy,
    PluginOutput,
    is_plugin_discount,
    run_point,
)

__all__ = ["EXTENSION_POINTS", "ExtensionPoint", "FailurePolicy", "PluginOutput", "is_plugin_discount", "run_point"]
