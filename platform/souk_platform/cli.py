"""The ``souk`` command: Flask's CLI (so ``souk db upgrade`` comes from Flask-Migrate) plus ours."""

from __future__ import annotations

import copy
import os
import signal
import sys
import tempfile
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from souk_platform.app import create_app
from souk_platform.db import db

if TYPE_CHECKING:
    from souk_platform.demo import StartToken


class _SoukGroup(FlaskGroup):
    """Flask's command group, whose ``db upgrade`` goes to every Alembic head by default."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "db":
            return _db_commands()
        return super().get_command(ctx, name)


def _db_commands() -> click.Group:
    """Flask-Migrate's ``db`` commands, with ``upgrade``'s target ``heads``, not ``head``.

    The platform and each extension (the marketplace) keep their own Alembic branch, so the schema has several
    heads and Alembic refuses a bare ``head`` (docs/architecture.md §9).
    """
    from flask_migrate.cli import db as migrate_commands

    upgrade = copy.copy(migrate_commands.commands["upgrade"])
    upgrade.params = [copy.copy(param) for param in upgrade.params]
    for param in upgrade.params:
        if param.name == "revision":
            param.default = "heads"
    group = copy.copy(migrate_commands)  # keeps the group's own options (--directory, --x-arg)
    group.commands = {**migrate_commands.commands, "upgrade": upgrade}
    return group


@click.group(cls=_SoukGroup, create_app=create_app, add_default_commands=True, load_dotenv=False)
def main() -> None:
    """Souk: an open commerce platform with an app marketplace."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-seed", is_flag=True, help="Do not add the demo shop, people and data.")
@with_appcontext
def demo(host: str, port: int, no_seed: bool) -> None:
    """Run the embedded demo: migrate the SQLite database, seed a demo shop, serve with in-process jobs."""
    from flask_migrate import upgrade

    from souk_platform.demo import demo_shop, mint_start_token, seed_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        click.echo("souk demo runs the embedded SQLite wiring; unset SOUK_DATABASE_URL to use it.", err=True)
        sys.exit(2)
    if not os.environ.get("SOUK_PUBLIC_URL"):  # OAuth issuer, redirect URIs and links follow --host/--port
        browser_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # listening on all: this computer
        app.config["SOUK_PUBLIC_URL"] = f"http://{browser_host}:{port}"
    click.echo("[1/3] Migrating the database / 迁移数据库 …")
    upgrade(revision="heads")
    if not no_seed:
        click.echo("[2/3] Seeding demo data / 写入演示数据 …")
        seed_demo(db.session, echo=click.echo)
    shop = demo_shop(db.session)
    start_token = mint_start_token(db.session, shop, clock=app.extensions["souk.clock"]) if shop else None
    db.session.commit()
    # Every SQLite transaction takes the write lock (BEGIN IMMEDIATE): hand this thread's connection
    # back before the server's threads and the job thread need it.
    db.session.remove()
    import waitress

    from souk_platform.gc_tuning import tune_garbage_collector

    server = waitress.create_server(app, host=host, port=port, threads=8, ident="souk")  # listening from here
    jobs = app.extensions["souk.jobs"]
    jobs.start(periodic=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops it as cleanly as Ctrl+C
    try:
        _print_start(host, port, start_token)
        tune_garbage_collector()
        server.run()  # returns on Ctrl+C
    except KeyboardInterrupt:
        pass  # Ctrl+C before the server's loop took over
    finally:
        jobs.stop()  # let the job in hand commit rather than die halfway
        click.echo("Stopped / 已停止")


def _print_start(host: str, port: int, start_token: StartToken | None) -> None:
    """The logins and this start's token, together at the end of what ``souk demo`` prints."""
    from souk_platform.demo import DEMO_LOGINS, KEPT_START_TOKENS

    click.echo(f"[3/3] Serving on http://{host}:{port}  (Ctrl+C to stop) / 服务已启动")
    for role, email, password in DEMO_LOGINS:
        click.echo(f"      {role:<22} {email:<26} password: {password}")
    if start_token is not None:
        click.echo(f"      API token (all scopes) / API 令牌（全部权限）: {start_token.plaintext}")
        kept = KEPT_START_TOKENS
        click.echo(f"      the tokens of the last {kept} starts work / 最近 {kept} 次启动的令牌仍有效")
        for hint in start_token.revoked_hints:
            click.echo(f"      revoked an older start's token …{hint} / 已撤销较早启动的令牌 …{hint}")
    click.echo(f"      API docs: http://{host}:{port}/api/v1/docs")


@main.command()
@with_appcontext
def seed() -> None:
    """Add the demo shop, people, products and customers (safe to run twice); print a new all-scopes token."""
    from souk_platform.demo import demo_shop, mint_start_token, seed_demo

    seed_demo(db.session, echo=click.echo)
    shop = demo_shop(db.session)
    assert shop is not None  # seed_demo just made sure of it
    start_token = mint_start_token(db.session, shop, clock=current_app.extensions["souk.clock"])
    db.session.commit()
    click.echo(f"      API token (all scopes) / API 令牌（全部权限）: {start_token.plaintext}")


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=lambda: (os.cpu_count() or 1) * 2 + 1, show_default="2 × cores + 1", type=int)
def serve(bind: str, workers: int) -> None:
    """Serve with gunicorn (production). Web processes keep no state: run as many as you need."""
    from souk_platform.gunicorn_conf import METRICS_DIR_MADE_BY_SERVE

    env = dict(os.environ)
    # Before gunicorn (and so prometheus_client) starts: every worker counts into this directory and
    # /metrics sums them. An operator's own directory (shared with this host's `souk worker`) is kept.
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = env[METRICS_DIR_MADE_BY_SERVE] = tempfile.mkdtemp(prefix="souk-metrics-")
    args = [
        sys.executable,  # this interpreter's gunicorn: a virtualenv's bin need not be on PATH
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--config",
        "python:souk_platform.gunicorn_conf",
        "souk_platform:create_app()",
    ]
    os.execvpe(args[0], args, env)


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@click.option(
    "--metrics-bind",
    metavar="HOST:PORT",
    default=None,
    help="Also serve /metrics, /healthz and /readyz there (for a host without souk serve).",
)
@with_appcontext
def worker(burst: bool, metrics_bind: str | None) -> None:
    """Run an rq worker with its scheduler, and tick the periodic jobs (needs SOUK_REDIS_URL)."""
    from souk_platform.jobs.worker import run_worker

    redis = current_app.extensions.get("souk.redis")
    if redis is None:
        raise click.UsageError("souk worker needs SOUK_REDIS_URL (the embedded demo runs jobs in-process).")
    run_worker(current_app._get_current_object(), redis, burst=burst, metrics_bind=metrics_bind)  # type: ignore[attr-defined]


@main.group()
def ledger() -> None:
    """Ledger tools."""


@ledger.command("check")
@with_appcontext
def ledger_check() -> None:
    """Check the ledger invariant: entries sum to zero, balances match entries, none negative."""
    from souk_platform.ledger.services import check_invariants

    click.echo("Checking the ledger / 检查账本 …")
    problems = check_invariants(db.session)
    if problems:
        for line in problems:
            click.echo(f"  ✗ {line}", err=True)
        click.echo(f"{len(problems)} problem(s) found / 发现 {len(problems)} 个问题", err=True)
        sys.exit(1)
    click.echo("✓ The ledger balances / 账本平衡")


@main.group()
def token() -> None:
    """Shop access tokens."""


@token.command("create")
@click.option("--shop", "shop_id", required=True, help="The shop id (shp_…).")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeat for each scope, e.g. read_products.")
@with_appcontext
def token_create(shop_id: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an access token for a shop and print it once."""
    from souk_platform.auth.services import create_access_token
    from souk_platform.core.errors import SoukError
    from souk_platform.shops.services import get_shop

    try:
        get_shop(db.session, shop_id)
        _, plaintext = create_access_token(db.session, shop_id=shop_id, name=name, scopes=scopes, created_by=None)
    except SoukError as exc:
        raise click.ClickException(exc.detail) from exc
    db.session.commit()
    click.echo(plaintext)
