"""Real ``souk worker`` and ``souk serve`` processes for tests, on the test database and Redis database.

Each process gets its own session (process group), so a test can SIGKILL one process alone, or its group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SOUK = Path(sys.executable).parent / "souk"


def souk_env(*, database_url: str, redis_url: str, secret_key: str, instance: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SOUK_DATABASE_URL": database_url,
        "SOUK_REDIS_URL": redis_url,
        "SOUK_JOBS": "rq",
        "SOUK_SECRET_KEY": secret_key,
        "SOUK_WEBHOOKS_ALLOW_LOOPBACK": "1",
        "SOUK_INSTANCE_PATH": str(instance),
        "SOUK_LOG_FORMAT": "console",
        "SOUK_RATE_LIMIT_RPS": "100000",
        "SOUK_RATE_LIMIT_BURST": "100000",
    }
    env.pop("SOUK_WEBHOOK_SECRETS_KEY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each test says where its processes count, if anywhere
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SoukProcesses:
    """Started processes, all killed (with their groups) by ``kill_all``."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str], *args: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen([str(SOUK), *args], env=env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def serve(self, env: dict[str, str], *, port: int, workers: int, name: str) -> subprocess.Popen[bytes]:
        process = self.start(env, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), name=name)
        wait_for(lambda: _answers(port), seconds=60, what=f"{name} to answer on port {port}")
        return process

    def log_of(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def children_of(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
