"""The `souk` command run for real, in a subprocess: `souk demo` the way `./souk-demo` runs it (a fresh
instance folder, a free port, stopped with Ctrl+C and started again on the same SQLite database), and
`souk serve` the way a unit file runs it (no virtualenv on PATH)."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

SEED_SECONDS = 240.0  # a first start migrates and seeds; a restart only migrates (a no-op) and serves
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOGINS = {
    "owner": ("owner@demo.souk.dev", "souk-demo-owner"),
    "admin": ("admin@demo.souk.dev", "souk-demo-admin"),
    "dev": ("dev@demo.souk.dev", "souk-demo-dev"),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _souk_command() -> list[str]:
    """The `souk` console script of this interpreter, as `./souk-demo` runs `.venv/bin/souk`."""
    script = Path(sys.executable).parent / "souk"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from souk_platform.cli import main; main()"]


class DemoRun:
    """One `souk demo` process; its stdout and stderr are read line by line as they come."""

    def __init__(self, instance: Path, port: int) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ("SOUK_DATABASE_URL", "SOUK_REDIS_URL")}
        env |= {"SOUK_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1"}
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [*_souk_command(), "demo", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(ANSI.sub("", line.rstrip("\n")))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if text in line:
                    return line
            if self.process.poll() is not None:
                self._reader.join(5)
                break
            time.sleep(0.2)
        raise AssertionError(f"`souk demo` never printed {text!r}; it printed:\n{self.output[-6000:]}")

    def interrupt(self) -> int:
        """Ctrl+C, as in the terminal; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(5)
        return code


@pytest.fixture
def runs() -> Iterator[list[DemoRun]]:
    started: list[DemoRun] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(10)


def _log_in(client: httpx.Client, who: str) -> None:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert csrf, form[:1000]
    email, password = LOGINS[who]
    answer = client.post("/login", data={"csrf_token": csrf.group(1), "email": email, "password": password})
    assert answer.status_code == 302, (answer.status_code, answer.text[:1000])


def _walk_the_demo(run: DemoRun, token: str) -> None:
    """What a newcomer does first: log in, open the market, the boards and the API; no answer is a 5xx."""
    with httpx.Client(base_url=run.url, timeout=30) as browser:
        for path in ("/", "/login", "/market", "/requirements", "/services", "/api/v1/market/apps"):
            assert browser.get(path).status_code == 200, path
        _log_in(browser, "owner")
        home = browser.get("/")
        assert home.status_code == 200
        shop_id = re.search(r"/shops/(shp_\w+)/", home.text).group(1)  # type: ignore[union-attr]
        for path in (f"/shops/{shop_id}/orders", f"/shops/{shop_id}/plugins", "/market?q=满减"):
            assert browser.get(path).status_code == 200, path
    with httpx.Client(base_url=run.url, timeout=30) as admin:
        _log_in(admin, "admin")
        assert admin.get("/admin/listings").status_code == 200
    api = httpx.get(f"{run.url}/api/v1/shop", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert api.status_code == 200, api.text


def _nobody_holds_the_write_lock(database: Path) -> None:
    """A transaction left open across start (BEGIN IMMEDIATE) would keep every other writer waiting."""
    probe = sqlite3.connect(database, timeout=5, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    finally:
        probe.close()


def _start(instance: Path, runs: list[DemoRun]) -> tuple[DemoRun, str]:
    run = DemoRun(instance, _free_port())
    runs.append(run)
    run.wait_for("API docs:", SEED_SECONDS)
    token = run.wait_for("API token", 5).rsplit(" ", 1)[1]
    assert token.startswith("souk_at_")
    logins = run.output[run.output.index("[3/3]") :]
    assert all(email in logins for email, _ in LOGINS.values())  # the logins and the token, together at the end
    return run, token


@pytest.mark.embedded
def test_the_demo_starts_stops_and_starts_again(tmp_path: Path, runs: list[DemoRun]) -> None:
    tokens = []
    for start in range(2):  # start, Ctrl+C, start again on the same database
        run, token = _start(tmp_path, runs)
        tokens.append(token)
        if start:
            assert "demo data already present" in run.output
        _nobody_holds_the_write_lock(tmp_path / "souk.sqlite3")
        _walk_the_demo(run, token)
        first_round = run.wait_for("jobs.periodic.first_round", 60)
        assert "failed=0" in first_round, run.output[-6000:]
        _walk_the_demo(run, tokens[0])  # the token of the first start still works after a restart
        assert run.interrupt() == 0, run.output[-3000:]
        for failure in ("Traceback", "job.failed", "request.crashed", "database is locked"):
            assert failure not in run.output, run.output[-6000:]
        assert run.lines[-1].startswith("Stopped")


def test_serve_runs_gunicorn_of_its_own_environment_without_the_venv_on_path(tmp_path: Path) -> None:
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("SOUK_DATABASE_URL", "SOUK_REDIS_URL")}
    env |= {"PATH": "/usr/bin:/bin", "SOUK_INSTANCE_PATH": str(tmp_path)}  # `.venv/bin` is not on it
    assert not Path(sys.executable).parent.as_posix().startswith(("/usr/bin", "/bin"))
    process = subprocess.Popen(
        [*_souk_command(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert answer is not None and answer.status_code == 200, process.stdout.read() if process.poll() else ""
        assert answer.json()["info"]["title"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
