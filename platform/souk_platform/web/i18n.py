"""Locale choice: an explicit choice (kept in the session) wins, then Accept-Language."""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import get_locale

LOCALE_NAMES = {"en": "English", "zh_CN": "简体中文"}


# The code people see in URLs and settings → the Babel locale whose catalog we ship.
BABEL_LOCALES = {"en": "en", "zh_CN": "zh_Hans_CN"}


def select_locale() -> str:
    supported = current_app.config["SOUK_LOCALES"]
    chosen = session.get("locale")
    if chosen in supported:
        return BABEL_LOCALES[str(chosen)]
    best = request.accept_languages.best_match(["en", "en-US", "en-GB", "zh", "zh-CN", "zh-Hans", "zh-Hans-CN"])
    return BABEL_LOCALES["zh_CN"] if best and best.startswith("zh") else "en"


def current_locale_code() -> str:
    """``en`` or ``zh_CN``: the code the language switcher and templates use."""
    return "zh_CN" if str(get_locale()).startswith("zh") else "en"
