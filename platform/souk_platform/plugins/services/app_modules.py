"""An app version's modules: what its manifest declares and the bytes the app uploads for each path
(versions are immutable)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import App, AppVersion
from souk_platform.db import DbSession
from souk_platform.plugins.errors import AppVersionNotFound, ModuleAlreadyStored, ModuleNotDeclared
from souk_platform.plugins.models import Plugin
from souk_platform.plugins.services.uploads import _validated


@dataclass(frozen=True, slots=True)
class DeclaredModule:
    """A module path the version's manifest declares, the points it runs at, and its stored row if any."""

    path: str
    points: list[str]
    config_schema: dict[str, Any] | None
    plugin: Plugin | None


def app_versions_stmt(app_id: str) -> sa.Select[Any]:
    return sa.select(AppVersion).where(AppVersion.app_id == app_id)


def get_app_version(session: DbSession, *, app_id: str, version_id: str) -> AppVersion:
    """One of the app's versions; another app's version is ``AppVersionNotFound`` (never confirmed)."""
    version = session.scalar(sa.select(AppVersion).where(AppVersion.id == version_id, AppVersion.app_id == app_id))
    if version is None:
        raise AppVersionNotFound(f"Your app has no version {version_id}.")
    return version


def declared_modules(session: DbSession, versions: Sequence[AppVersion]) -> dict[str, list[DeclaredModule]]:
    """Version id → the modules its manifest declares (in manifest order), with what is stored for each."""
    stored: dict[tuple[str, str], Plugin] = {}
    if versions:
        rows = session.scalars(sa.select(Plugin).where(Plugin.app_version_id.in_([v.id for v in versions])))
        stored = {(row.app_version_id or "", row.module_path or ""): row for row in rows}
    out: dict[str, list[DeclaredModule]] = {}
    for version in versions:
        by_path: dict[str, DeclaredModule] = {}
        for entry in version.manifest.get("plugins", []):
            known = by_path.get(entry["module"])
            if known is not None:
                known.points.append(entry["point"])
                continue
            by_path[entry["module"]] = DeclaredModule(
                entry["module"],
                [entry["point"]],
                entry.get("config_schema") or None,
                stored.get((version.id, entry["module"])),
            )
        out[version.id] = list(by_path.values())
    return out


def upload_app_module(
    session: DbSession, *, app_id: str, version_id: str, module_path: str, module: bytes
) -> tuple[Plugin, bool]:
    """Store the module the version's manifest declares at ``module_path``; (row, whether it is new).

    The same bytes again return the stored row (idempotent). Raises ``AppVersionNotFound`` (404),
    ``ModuleNotDeclared`` (422), ``InvalidPluginModule`` (422, as for a shop upload) and
    ``ModuleAlreadyStored`` (409) for other bytes at a stored path: versions are immutable.
    """
    version = get_app_version(session, app_id=app_id, version_id=version_id)
    declared = {entry.path: entry for entry in declared_modules(session, [version])[version.id]}
    target = declared.get(module_path)
    if target is None:
        listed = ", ".join(declared) or "none"
        raise ModuleNotDeclared(
            f"Version {version.number} does not declare the module {module_path!r} (declared: {listed}).",
            errors={"module": [f"Not declared in this version's manifest; declared: {listed}."]},
        )
    sha256 = hashlib.sha256(module).hexdigest()
    if target.plugin is not None:
        return _same_module(target.plugin, sha256, version), False
    compiled = _validated(module)
    info = compiled.info
    app = session.get(App, app_id)
    plugin = Plugin(
        shop_id=None,
        app_version_id=version.id,
        module_path=module_path,
        name=f"{app.name if app else app_id} · {module_path}"[:100],
        point=target.points[0],
        sha256=info.sha256,
        size_bytes=info.size_bytes,
        module=bytes(module),
        compiled=compiled.artifact,
        compiled_key=compiled.artifact_key,
        config_schema=target.config_schema,
    )
    try:
        with session.begin_nested():
            session.add(plugin)
    except sa.exc.IntegrityError:  # a concurrent upload of the same path won
        stored = session.scalar(
            sa.select(Plugin).where(Plugin.app_version_id == version.id, Plugin.module_path == module_path)
        )
        if stored is None:
            raise
        return _same_module(stored, sha256, version), False
    return plugin, True


def _same_module(stored: Plugin, sha256: str, version: AppVersion) -> Plugin:
    if stored.sha256 != sha256:
        raise ModuleAlreadyStored(
            f"Version {version.number} already has a different module at {stored.module_path!r} "
            f"(sha256 {stored.sha256}). Versions are immutable: publish a new version to change it."
        )
    return stored
