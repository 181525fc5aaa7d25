"""Every user-facing string has a zh_CN translation, and each compiled catalog matches its source.

The platform and the marketplace keep one catalog each (the marketplace adds its directory to
flask-babel's list when it registers); both are checked the same way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = {
    "souk_platform": ROOT / "platform",
    "souk_marketplace": ROOT / "marketplace",
}


def _key(value):
    """Plural messages have a list or tuple of ids/strings; make them comparable."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(message) -> bool:
    return all(message.string) if isinstance(message.string, list | tuple) else bool(message.string)


def _po(package: str) -> Path:
    return CATALOGS[package] / package / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


@pytest.mark.parametrize("package", sorted(CATALOGS))
def test_every_extracted_message_is_translated(package, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "--no-location",
            package,
        ],
        cwd=CATALOGS[package],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with _po(package).open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and _translated(m)}
    assert sorted(wanted - translated) == []


@pytest.mark.parametrize("package", sorted(CATALOGS))
def test_compiled_catalog_matches_the_po_file(package):
    with _po(package).open("rb") as f:
        source = {_key(m.id): _key(m.string) for m in read_po(f) if m.id}
    with _po(package).with_suffix(".mo").open("rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    assert compiled == source


def test_every_webhook_event_description_reads_in_chinese(app):
    """The webhooks page shows each event type's description through gettext: each one has its Chinese.

    The descriptions live in plain-Python tables (the API documents them in English), so extraction
    does not see them; this keeps the catalogs' entries in step with the tables.
    """
    from flask_babel import gettext

    from souk_platform.webhooks.catalogue import CATALOGUE

    assert "requirement.open" in CATALOGUE  # the marketplace's event types are there too
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        untranslated = sorted({e.description for e in CATALOGUE.values() if gettext(e.description) == e.description})
    assert untranslated == []
