"""Plugin rules: a shop's uploads and an app version's modules, activation, invocation (with the point's
policy, limits and budget), the invocation log, health and ``plugin.failing``, and what the merchant's
and the developer's pages show.

Module bytes of an installed app's plugin: the ``plugins`` row with ``app_version_id`` = the
installation's app version and ``module_path`` = the ``PluginActivation.module`` (uploaded by the app
with ``upload_app_module``). Order at a point: the shop's own activations by ``position`` (then age),
then installed apps' activations by age. Invocation rows outlive a rolled-back caller
(``invocation_log``).

One module per section: ``uploads``, ``app_modules``, ``activations``, ``pipeline`` (the runner,
``invoke_plugins``), ``invocations`` (the log, replay, health, purge) and ``pages``. This package
re-exports the public names, so callers import from ``services`` as before.
"""

from __future__ import annotations

from souk_platform.plugins.invocation_log import FAILING_THRESHOLD
from souk_platform.plugins.services.activations import (
    activations_stmt,
    create_activation,
    get_activation,
    update_activation,
)
from souk_platform.plugins.services.app_modules import (
    DeclaredModule,
    app_versions_stmt,
    declared_modules,
    get_app_version,
    upload_app_module,
)
from souk_platform.plugins.services.invocations import (
    INPUT_RETENTION,
    LOG_RETENTION,
    export_invocation,
    get_invocation,
    invocations_stmt,
    plugin_health,
    purge_invocations,
    replay_document,
)
from souk_platform.plugins.services.pages import (
    HEALTH_WINDOW,
    AppPluginHealth,
    Health,
    ShopPluginEntry,
    app_invocations_stmt,
    app_plugin_health,
    change_shop_plugin,
    get_app_invocation,
    get_shop_plugin_entry,
    move_activation,
    shop_plugin_entries,
    unactivated_plugins,
    update_app_activation,
)
from souk_platform.plugins.services.pipeline import (
    PIPELINE_BUDGET_MS,
    ActivePlugin,
    active_plugins,
    compile_stored_module,
    invoke_plugins,
    shops_with_plugins_at,
)
from souk_platform.plugins.services.uploads import (
    MAX_CONFIG_BYTES,
    decode_module,
    get_plugin,
    plugins_stmt,
    upload_plugin,
)

__all__ = [
    "FAILING_THRESHOLD",
    "HEALTH_WINDOW",
    "INPUT_RETENTION",
    "LOG_RETENTION",
    "MAX_CONFIG_BYTES",
    "PIPELINE_BUDGET_MS",
    "ActivePlugin",
    "AppPluginHealth",
    "DeclaredModule",
    "Health",
    "ShopPluginEntry",
    "activations_stmt",
    "active_plugins",
    "app_invocations_stmt",
    "app_plugin_health",
    "app_versions_stmt",
    "change_shop_plugin",
    "compile_stored_module",
    "create_activation",
    "declared_modules",
    "decode_module",
    "export_invocation",
    "get_activation",
    "get_app_invocation",
    "get_app_version",
    "get_invocation",
    "get_plugin",
    "get_shop_plugin_entry",
    "invocations_stmt",
    "invoke_plugins",
    "move_activation",
    "plugin_health",
    "plugins_stmt",
    "purge_invocations",
    "replay_document",
    "shop_plugin_entries",
    "shops_with_plugins_at",
    "unactivated_plugins",
    "update_activation",
    "update_app_activation",
    "upload_app_module",
    "upload_plugin",
]
