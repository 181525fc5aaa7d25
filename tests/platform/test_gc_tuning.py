"""The collector settings of long-running processes: start-up objects frozen, higher thresholds, every entry point."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from souk_platform import cli, gunicorn_conf
from souk_platform.gc_tuning import THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_collector():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tuning_freezes_what_start_up_made_and_raises_the_thresholds(restored_collector):
    frozen_before = gc.get_freeze_count()
    tune_garbage_collector()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > frozen_before  # the objects alive now are out of the collector's walks
    cycle: list[object] = []
    cycle.append(cycle)  # garbage made later is still collected: only the thresholds moved
    del cycle
    assert gc.collect() >= 1


def test_souk_serve_gives_gunicorn_the_hook_that_tunes_each_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # else serve makes a directory of its own
    ran: list[list[str]] = []
    monkeypatch.setattr(os, "execvpe", lambda _file, args, _env: ran.append(list(args)))
    result = CliRunner().invoke(cli.main, ["serve", "--workers", "1"])
    assert result.exit_code == 0, result.output
    (args,) = ran
    assert args[args.index("--config") + 1] == "python:souk_platform.gunicorn_conf"

    tuned: list[bool] = []
    monkeypatch.setattr(gunicorn_conf, "tune_garbage_collector", lambda: tuned.append(True))
    gunicorn_conf.post_worker_init(worker=None)
    assert tuned == [True]


def test_gunicorn_accepts_the_config_module():
    # gunicorn's own --check-config loads the module the way `souk serve` names it.
    checked = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "--check-config",
            "--config",
            "python:souk_platform.gunicorn_conf",
            "souk_platform:create_app()",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SOUK_DATABASE_URL": "sqlite://", "SOUK_SECRET_KEY": "check"},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
