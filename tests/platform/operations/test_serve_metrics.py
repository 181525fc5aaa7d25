"""``/metrics`` under a real ``souk serve`` with two gunicorn workers: one scrape sums both workers' counts,
and a scrape without the token is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from flask import Flask
from scrape import sample
from souk_processes import SoukProcesses, free_port, souk_env

pytestmark = pytest.mark.concurrency

TOKEN = "metrics-token-for-the-test"
REQUESTS = 40


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[SoukProcesses]:
    started = SoukProcesses(tmp_path)
    yield started
    started.kill_all()


def test_one_scrape_sums_both_gunicorn_workers_and_needs_the_token(
    app: Flask, database_url: str, redis_url: str, tmp_path: Path, processes: SoukProcesses
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = souk_env(
        database_url=database_url,
        redis_url=redis_url,
        secret_key=str(app.config["SECRET_KEY"]),
        instance=tmp_path,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        SOUK_METRICS_TOKEN=TOKEN,
    )
    port = free_port()
    processes.serve(env, port=port, workers=2, name="web")
    base = f"http://127.0.0.1:{port}"

    # gunicorn sync workers close each connection, and a busy worker accepts nothing: four at a time, until both
    # workers have served (on a loaded machine one worker may take a whole batch while the other is still booting).
    sent = 0
    served_by: set[int] = set()
    with ThreadPoolExecutor(4) as pool:
        while len(served_by) < 2 and sent < REQUESTS * 10:
            batch = list(pool.map(lambda _: httpx.get(f"{base}/api/v1/shop", timeout=10).status_code, range(REQUESTS)))
            assert batch == [401] * REQUESTS
            sent += REQUESTS
            served_by = {
                int(m.group(1)) for p in metrics_dir.glob("counter_*.db") if (m := re.search(r"_(\d+)\.db$", p.name))
            }
    assert len(served_by) == 2, f"expected both workers to have counted, got files of {served_by}"

    assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
    assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401

    authorized = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(4):  # whichever worker answers the scrape, the count is everyone's
        r = httpx.get(f"{base}/metrics", headers=authorized, timeout=10)
        assert r.status_code == 200
        total = sample(r.text, "souk_http_requests_total", method="GET", route="/api/v1/shop", status="401")
        assert total == sent


def test_serve_makes_its_own_metrics_directory_and_removes_it_on_exit(
    app: Flask, database_url: str, redis_url: str, tmp_path: Path, processes: SoukProcesses
) -> None:
    env = souk_env(
        database_url=database_url, redis_url=redis_url, secret_key=str(app.config["SECRET_KEY"]), instance=tmp_path
    )
    port = free_port()
    web = processes.serve(env, port=port, workers=1, name="web")
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)  # from this machine: no token needed
    assert r.status_code == 200
    made = Path(_environ_of(web.pid)["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and any(made.glob("*.db"))

    web.terminate()  # gunicorn's graceful stop
    web.wait(30)
    assert not made.exists()


def _environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)
