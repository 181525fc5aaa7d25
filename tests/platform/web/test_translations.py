"""Every user-facing string has a zh_CN translation, and the compiled catalog matches its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

PLATFORM = Path(__file__).resolve().parents[3] / "platform"
PO = PLATFORM / "souk_platform/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def test_every_extracted_message_is_translated(tmp_path):
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
            "souk_platform",
        ],
        cwd=PLATFORM,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string}
    assert sorted(wanted - translated) == []


def test_compiled_catalog_matches_the_po_file():
    with PO.open("rb") as f:
        source = {m.id: m.string for m in read_po(f) if m.id}
    with PO.with_suffix(".mo").open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == source
