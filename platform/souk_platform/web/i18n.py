"""Locale choice: an explicit choice (kept in the session) wins, then Accept-Language."""

from __future__ import annotations

from flask import current_app, request, session

LOCALE_NAMES = {"en": "English", "zh_CN": "简体中文"}


def select_locale() -> str:
    supported = current_app.config["SOUK_LOCALES"]
    chosen = session.get("locale")
    if chosen in supported:
        return str(chosen)
    best = request.accept_languages.best_match([loc.replace("_", "-") for loc in supported] + ["zh"])
    if best in ("zh", "zh-CN"):
        return "zh_CN"
    return "en"
