"""The segments benchmark still runs at a tiny size, and the compiler and the hand-written SQL agree on every count."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "segments.py"


def test_the_segments_benchmark_runs_and_both_sides_count_the_same(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as when run as a script: its sibling modules import
    spec = importlib.util.spec_from_file_location("segments_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--customers", "300", "--orders", "3000", "--runs", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("seed:", "spend", "V3+", "≥ 3 units"))]
    assert len(rows) == 4, out
    assert not any("DIFFER" in row for row in rows), out
    counts = [int(row[58:66]) for row in rows]
    assert all(count > 0 for count in counts), out  # each condition finds somebody at this size
    http = next(line for line in out.splitlines() if "through POST /api/v1/segments/estimate" in line)
    assert http.endswith(f"count {counts[0]}"), out
    assert "At start: load average" in out and "At end: load average" in out
