"""The plugin benchmark still runs (a tiny size: its figures mean nothing here, it asserts nothing itself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "plugin_invoke.py"


@pytest.mark.embedded
def test_the_plugin_benchmark_runs_both_parts_with_a_tiny_size(capsys, monkeypatch):
    monkeypatch.delenv("SOUK_DATABASE_URL", raising=False)  # the embedded SQLite wiring, in a temp folder
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as when run as a script: its sibling modules import
    spec = importlib.util.spec_from_file_location("plugin_invoke_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--calls", "40", "--rounds", "2", "--checkouts", "2", "--lines", "3"]) == 0
    out = capsys.readouterr().out
    assert "ratio straightforward / Souk (median)" in out
    assert "checkout, 3 plugins" in out and "added by the plugins" in out
    assert "plugin calls logged: 15 (ok 15)" in out  # 3 plugins x (2 timed + 3 warm-up) checkouts
