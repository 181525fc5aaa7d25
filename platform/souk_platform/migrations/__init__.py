"""The schema's history: Alembic scripts, the platform's in ``versions/``, each extension's on a branch of its own.

They live inside the package so an installed (not editable) Souk can migrate. ``create_app`` points
Flask-Migrate here; an extension adds its own version folder with ``add_version_location`` (its first revision
carries a branch label and ``depends_on`` the platform revision it builds on). Always upgrade to
``"heads"`` so every branch reaches its head (docs/architecture.md §9).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

MIGRATIONS_DIR = Path(__file__).resolve().parent
PLATFORM_VERSIONS = MIGRATIONS_DIR / "versions"


def init_migrations(app: Flask, db: SQLAlchemy) -> None:
    """Wire Flask-Migrate to the platform's scripts; version folders extensions add are read when Alembic runs."""
    app.extensions["souk.migration_locations"] = [str(PLATFORM_VERSIONS)]
    migrate = Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)

    @migrate.configure
    def _version_locations(config: object) -> object:
        locations = app.extensions["souk.migration_locations"]
        config.set_main_option("version_locations", os.pathsep.join(locations))  # type: ignore[attr-defined]
        return config


def add_version_location(app: Flask, folder: Path) -> None:
    """Let an extension put its Alembic branch next to its models (idempotent)."""
    locations: list[str] = app.extensions["souk.migration_locations"]
    if str(folder) not in locations:
        locations.append(str(folder))
