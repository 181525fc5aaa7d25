"""The journeys benchmark still runs at a tiny size: every customer enrols and every non-holdout one gets a coupon."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "journeys.py"


def test_the_journeys_benchmark_runs_everyone_through(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as when run as a script: its sibling modules import
    spec = importlib.util.spec_from_file_location("journeys_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--customers", "60", "--wait-seconds", "0", "--batch", "25"]) == 0
    out = capsys.readouterr().out
    assert "Enrolled 60 customers" in out, out
    variants = re.search(r"Variants: (\{.*\})", out)
    assert variants is not None, out
    counts = ast.literal_eval(variants.group(1))
    assert sum(counts.values()) == 60 and set(counts) <= {"a", "b", "holdout"}, out
    coupons = counts.get("a", 0) + counts.get("b", 0)
    assert f"Plain loop: {coupons} coupons" in out, out
    assert "Ratio engine per enrolment / loop per coupon" in out
