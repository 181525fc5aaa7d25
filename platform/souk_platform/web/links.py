"""Links between page sections that packages contribute (the marketplace adds its own).

Areas: ``nav`` (top bar, endpoint without arguments), ``shop`` (a shop owner's admin, endpoint takes
``shop_id``), ``app_console`` (a developer's app page, endpoint takes ``app_id``) and ``admin``
(platform admins, no arguments). Labels are lazily translated strings.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

AREAS = ("nav", "shop", "app_console", "admin")


def add_link(app: Flask, area: str, endpoint: str, label: Any) -> None:
    """Show ``label`` linking to ``endpoint`` in ``area`` of every page that lists that area's links."""
    if area not in AREAS:
        raise ValueError(f"unknown link area {area!r}; one of {AREAS}")
    app.extensions.setdefault("souk.links", {area: [] for area in AREAS})[area].append((endpoint, label))


def links_of(app: Flask, area: str) -> list[tuple[str, Any]]:
    return list(app.extensions.get("souk.links", {}).get(area, []))
