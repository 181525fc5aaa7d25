"""The ``souk`` command: Flask's CLI (so ``souk db upgrade`` comes from Flask-Migrate) plus ours."""

from __future__ import annotations

import copy
import os
import sys
import threading

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from souk_platform.app import create_app
from souk_platform.db import db


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

    from souk_platform.demo import DEMO_LOGINS, seed_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        click.echo("souk demo runs the embedded SQLite wiring; unset SOUK_DATABASE_URL to use it.", err=True)
        sys.exit(2)
    click.echo("[1/3] Migrating the database / 迁移数据库 …")
    upgrade(revision="heads")
    if not no_seed:
        click.echo("[2/3] Seeding demo data / 写入演示数据 …")
        seed_demo(db.session, echo=click.echo)
    app.extensions["souk.jobs"].start(periodic=True)
    click.echo(f"[3/3] Serving on http://{host}:{port}  (Ctrl+C to stop) / 服务已启动")
    for role, email, password in DEMO_LOGINS:
        click.echo(f"      {role:<22} {email:<26} password: {password}")
    click.echo(f"      API docs: http://{host}:{port}/api/v1/docs")
    import waitress

    from souk_platform.gc_tuning import tune_garbage_collector

    tune_garbage_collector()
    waitress.serve(app, host=host, port=port, threads=8, ident="souk")


@main.command()
@with_appcontext
def seed() -> None:
    """Add the demo shop, people, products and customers (safe to run twice)."""
    from souk_platform.demo import seed_demo

    seed_demo(db.session, echo=click.echo)


@main.command()
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=lambda: (os.cpu_count() or 1) * 2 + 1, show_default="2 × cores + 1", type=int)
def serve(bind: str, workers: int) -> None:
    """Serve with gunicorn (production). Web processes keep no state: run as many as you need."""
    # gunicorn from this interpreter's environment: an installed Souk run as .venv/bin/souk has no activated
    # venv, so a bare "gunicorn" is not on PATH.
    args = [
        sys.executable,
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
    os.execvp(args[0], args)


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an rq worker with its scheduler, and tick the periodic jobs (needs SOUK_REDIS_URL)."""
    from rq import Queue, SimpleWorker

    from souk_platform.jobs.runner import periodic_ticker

    redis = current_app.extensions.get("souk.redis")
    if redis is None:
        raise click.UsageError("souk worker needs SOUK_REDIS_URL (the embedded demo runs jobs in-process).")
    stop = threading.Event()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # SimpleWorker runs jobs in this process: rq's default forks a cold child per job (~0.4 s of
    # imports and query compilation each), which starves webhook delivery. Our jobs are Python
    # that commits its own work; a crash is contained by the outbox sweep re-enqueueing it.
    worker = SimpleWorker([Queue("souk", connection=redis)], connection=redis)
    # rq raises the pool's socket timeout above its blocking dequeue (405 s), but connections opened
    # before (by the app factory) keep redis-py's 5 s default: an idle worker's dequeue then times out
    # and rq backs off for up to a minute at a time, jobs waiting meanwhile. Reopen them all.
    redis.connection_pool.disconnect()
    ticker = threading.Thread(target=periodic_ticker, args=(app, redis, stop), daemon=True)
    if not burst:  # a long-running worker: tune its collector (souk_platform.gc_tuning)
        from souk_platform.gc_tuning import tune_garbage_collector

        tune_garbage_collector()
        ticker.start()
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        stop.set()


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
