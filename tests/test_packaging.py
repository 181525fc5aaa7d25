"""Souk installs from its wheels, not only from the checkout (docs/architecture.md §1).

Builds the three distributions (souk-sandbox, souk-sdk, souk), installs them into a fresh virtualenv (not
editable; dependencies come from pip's configured index and cache), then, away from the source tree: migrates
a SQLite database with ``souk db upgrade``, serves it with ``souk serve`` and runs ``souk-plugin --help``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "platform", "marketplace", "sandbox", "sdk")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", "instance", "examples")


def _run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A virtualenv holding Souk's three wheels, and an environment that cannot see the checkout."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"  # a copy: building never writes into the checkout
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = work / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, "./sandbox", "./sdk", ".", cwd=source)
    built = sorted(path.name.split("-")[0] for path in wheels.glob("*.whl"))
    assert built == ["souk", "souk_sandbox", "souk_sdk"]

    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    _run(env_dir / "bin" / "python", "-m", "pip", "install", "-q", *sorted(wheels.glob("*.whl")), cwd=work)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("SOUK_")}
    env["SOUK_INSTANCE_PATH"] = str(work / "instance")
    return env_dir, env


def test_each_module_ships_from_exactly_one_distribution(installed):
    env_dir, env = installed
    script = (
        "import importlib.metadata as m, json, souk_platform, souk_marketplace, souk_sandbox, souk_sdk;"
        "d = m.packages_distributions();"
        "print(json.dumps({k: sorted(set(v)) for k, v in d.items() if k.startswith('souk_')}));"
    )
    shipped = json.loads(_run(env_dir / "bin" / "python", "-c", script, env=env, cwd=env_dir).stdout)
    assert shipped == {
        "souk_marketplace": ["souk"],
        "souk_platform": ["souk"],
        "souk_sandbox": ["souk-sandbox"],
        "souk_sdk": ["souk-sdk"],
    }


def _revisions(alembic_output: str) -> set[str]:
    """The revision ids in ``souk db current``/``heads`` output ("0026_plugins (head)" per line)."""
    return {line.split()[0] for line in alembic_output.splitlines() if line.strip()}


def test_installed_souk_migrates_serves_and_ships_the_plugin_kit(installed):
    env_dir, env = installed
    bin_dir = env_dir / "bin"
    cwd = Path(env["SOUK_INSTANCE_PATH"]).parent

    _run(bin_dir / "souk", "db", "upgrade", env=env, cwd=cwd)  # every Alembic head: platform and marketplace
    current = _revisions(_run(bin_dir / "souk", "db", "current", env=env, cwd=cwd).stdout)
    heads = _revisions(_run(bin_dir / "souk", "db", "heads", env=env, cwd=cwd).stdout)
    assert len(heads) >= 2  # the platform's branch and the marketplace's, read from the installed package data
    assert current == heads

    port = _free_port()
    server = subprocess.Popen(
        [str(bin_dir / "souk"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        spec = None
        for _ in range(120):
            try:
                spec = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        assert spec is not None, server.stderr.read() if server.stderr and server.poll() is not None else "no answer"
        assert spec.status_code == 200
        assert "/api/v1/billing/charges" in spec.json()["paths"]  # the marketplace registered from its wheel
        market = httpx.get(f"http://127.0.0.1:{port}/market", headers={"Accept-Language": "zh-CN"}, timeout=10)
        assert market.status_code == 200 and "应用市场" in market.text  # templates and translations shipped
    finally:
        server.terminate()
        server.wait(timeout=30)

    kit = _run(bin_dir / "souk-plugin", "--help", env=env, cwd=cwd)
    assert "souk-plugin" in kit.stdout
