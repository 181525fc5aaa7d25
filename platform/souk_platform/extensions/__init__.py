"""Extension points: the named steps where shop-installed plugins will run (DESIGN.md §6).

``EXTENSION_POINTS`` is the one table of points, their failure policy and merge rule;
``run_point`` runs a point. Today it runs the built-in rule only; the Wasm sandbox plugs in there.
"""

from souk_platform.extensions.services import EXTENSION_POINTS, ExtensionPoint, FailurePolicy, run_point

__all__ = ["EXTENSION_POINTS", "ExtensionPoint", "FailurePolicy", "run_point"]
