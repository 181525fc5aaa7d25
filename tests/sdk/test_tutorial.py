"""docs/tutorial.md, run as written: its `bash tutorial` blocks against a live Souk with the demo seeded.

The browser steps the tutorial describes in prose (register the app; approve, install and order) are
done here through the services and the web routes, each just before the first block that needs it
(the one using ``$SOUK_CLIENT_ID``; the first ``webhooks trigger``). Blocks marked ``background`` are
the ones the reader runs in another terminal; each is waited for until it says it is ready. The app's
port 8000 is replaced by a free one, in the blocks and in the manifest ``app init`` wrote.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from conftest import _create_database, _drop_database
from e2e.harness import LiveServer, serve

from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_marketplace.listings.services import REVIEW_CHECKLIST, approve_submission
from souk_platform import create_app
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.db import db
from souk_platform.shops.models import Shop
from souk_platform.webhooks.listen import WebhookListenEvent, WebhookListenSession
from souk_platform.webhooks.services import dispatch_outbox

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```bash tutorial( background)?\n(.*?)^```", re.S | re.M)
WAIT_SECONDS = 60.0
READY = ("Running on", "Ready:")  # what `flask run` and `souk-dev webhooks listen` print once ready


@pytest.fixture(scope="module")
def souk() -> Iterator[LiveServer]:
    """A live Souk on its own migrated PostgreSQL database, the demo seeded, loopback webhooks allowed."""
    from flask_migrate import upgrade

    from souk_platform.demo import seed_demo

    name = f"souk_test_{os.getpid()}_tutorial"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": _create_database(name),
            "SOUK_REDIS_URL": None,
            "SOUK_JOBS": "inline",
            "SECRET_KEY": "tutorial-secret",
            "WTF_CSRF_ENABLED": False,
            "SOUK_LOG_FORMAT": "console",
            "SOUK_WEBHOOKS_ALLOW_LOOPBACK": True,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        seed_demo(db.session, echo=lambda _line: None)
        db.session.commit()
    live = serve(app)
    app.config["SOUK_PUBLIC_URL"] = live.url
    yield live
    live.server.shutdown()
    app.extensions["souk.jobs"].stop()
    with app.app_context():
        db.engine.dispose()
    _drop_database(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(ready, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SECONDS
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {what}")
        time.sleep(0.3)


class Walk:
    """The reader: a work folder, the exported environment, and the prose steps done for them."""

    def __init__(self, souk: LiveServer, work: Path) -> None:
        self.souk, self.work = souk, work
        self.app = souk.app
        self.port = _free_port()
        bin_dir = work / "bin"
        bin_dir.mkdir()
        venv = REPO / ".venv" / "bin"
        if not (venv / "souk-dev").exists():  # a .venv installed before the entry point existed
            (bin_dir / "souk-dev").write_text(f'#!/bin/sh\nexec "{venv}/python" -m souk_sdk.dev_cli "$@"\n')
            (bin_dir / "souk-dev").chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{venv}:{os.environ['PATH']}",
            "SOUK_API_URL": souk.url,
            "XDG_CONFIG_HOME": str(work / "config"),
        }
        self.background: list[tuple[subprocess.Popen[bytes], Path]] = []

    # --- the prose steps ---------------------------------------------------------------------------

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register(self) -> None:
        """The developer pastes the manifest `app init` wrote into the console; rotating shows the secret."""
        manifest_file = self.work / "my-discount" / "manifest.yaml"
        manifest = manifest_file.read_text().replace("http://127.0.0.1:8000", self.local_url)
        manifest_file.write_text(manifest)  # the app listens on the free port, not on 8000
        with self.app.app_context():
            developer = db.session.scalar(sa.select(User).where(User.email == "dev@demo.souk.dev"))
            app, _, secret = register_app(db.session, developer=developer, manifest_text=manifest)
            db.session.commit()
            assert secret is not None  # the scaffold's client is confidential
            self.env |= {"SOUK_CLIENT_ID": app.client_id, "SOUK_CLIENT_SECRET": secret}
            self.app_id = app.id

    def approve_install_and_order(self) -> None:
        """The admin approves; the owner installs from the market, lands on the app's /callback, and orders."""
        self.approve_and_install()
        order = self.place_order()
        labels = {(d.get("label"), d.get("amount")) for d in order.get("discounts", [])}
        assert ("5 off orders of 100 or more", 500) in labels, order
        app_log = self.background[0][1]
        with self.app.app_context():

            def delivered() -> bool:  # straight to the endpoint the manifest declared
                dispatch_outbox(db.session, clock=self.app.extensions["souk.clock"])
                db.session.commit()
                return f"order.paid {order['id']}" in app_log.read_text()

            _wait(delivered, "the real order.paid")

    def approve_and_install(self) -> None:
        """The admin approves the submission; the owner installs from the market and lands on /callback."""
        with self.app.app_context():

            def in_review() -> bool:
                status = db.session.scalar(
                    sa.select(ListingSubmission.status)
                    .join(Listing, Listing.id == ListingSubmission.listing_id)
                    .where(Listing.app_id == self.app_id)
                )
                db.session.rollback()
                return status == "in_review"

            _wait(in_review, "the automated checks")
            submission = db.session.scalar(
                sa.select(ListingSubmission).join(Listing).where(Listing.app_id == self.app_id)
            )
            admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.souk.dev"))
            approve_submission(
                db.session,
                submission_id=submission.id,
                admin=admin,
                checklist=list(REVIEW_CHECKLIST),
                now=self.app.extensions["souk.clock"].now(),
            )
            db.session.commit()
        # The owner searches the market, opens the app and follows its Install link to the consent page.
        owner = self.app.test_client()
        login = owner.post("/login", data={"email": "owner@demo.souk.dev", "password": "souk-demo-owner"})
        assert login.status_code in (302, 303), login.get_data(as_text=True)[:500]
        found = owner.get("/market?q=my-discount").get_data(as_text=True)
        page = re.search(r'href="(/market/[^"]+)"[^>]*>\s*(?:<[^>]+>\s*)*my-discount', found)
        assert page, found[:2000]
        app_page = owner.get(page.group(1)).get_data(as_text=True)
        install = re.search(r'id="install" href="([^"]+)"', app_page)
        assert install, app_page[:2000]
        authorize = urlsplit(html.unescape(install.group(1)))
        query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
        callback = f"{self.local_url}/callback"
        assert query["redirect_uri"] == callback and query["client_id"] == self.env["SOUK_CLIENT_ID"]
        consent = owner.get("/oauth/authorize", query_string=query)
        assert consent.status_code == 200, consent.get_data(as_text=True)[:500]
        approved = owner.post("/oauth/authorize", query_string=query, data={"decision": "approve"})
        location = approved.headers.get("Location", "")
        assert approved.status_code == 302 and location.startswith(callback + "?"), location
        landed = httpx.get(location, timeout=30)  # the browser follows the redirect to the app
        assert landed.status_code == 200 and "Installed" in landed.text, self.background[0][1].read_text()
        saved = json.loads((self.work / "my-discount" / "installations.json").read_text())
        assert list(saved) == [re.search(r"<p id='shop'>([^<]+)</p>", landed.text).group(1)]  # type: ignore[union-attr]

    def place_order(self) -> dict:  # type: ignore[type-arg]
        """The owner's test order: a cart of 100 yuan or more, checked out and paid with the test provider."""
        from factories import token_for

        with self.app.app_context():
            shop = db.session.scalar(sa.select(Shop).order_by(Shop.created_at))
            auth = token_for(shop)
        api = self.app.test_client()
        products = api.get("/api/v1/products?limit=50", headers=auth).get_json()["items"]
        sku, quantity = next(
            (s, 10000 // s["price"] + 1)
            for p in products
            if p["status"] == "active"
            for s in p["skus"]
            if s["price"] > 0 and s["available"] > 10000 // s["price"]
        )
        customer = api.get("/api/v1/customers?limit=1", headers=auth).get_json()["items"][0]
        cart = api.post(
            "/api/v1/carts",
            json={"customer_id": customer["id"], "lines": [{"sku_id": sku["id"], "quantity": quantity}]},
            headers=auth,
        )
        assert cart.status_code == 201, cart.get_json()
        order = api.post(
            f"/api/v1/carts/{cart.get_json()['id']}/checkout",
            json={},
            headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert order.status_code == 201, order.get_json()
        document = order.get_json()
        payment = api.post(f"/api/v1/orders/{document['id']}/payments", json={}, headers=auth)
        assert payment.status_code == 201, payment.get_json()
        paid = api.post(
            f"/api/v1/payments/{payment.get_json()['id']}/callback", json={"outcome": "succeeded"}, headers=auth
        )
        assert paid.status_code == 200, paid.get_json()
        return document  # type: ignore[no-any-return]

    # --- running the blocks ------------------------------------------------------------------------

    def run(self, block: str, index: int) -> None:
        env_file = self.work / f".env{index}"
        script = f"set -euo pipefail\n{block}\nenv -0 > {env_file}\n"
        ran = subprocess.run(
            ["bash", "-c", script], cwd=self.work, env=self.env, capture_output=True, text=True, timeout=300
        )
        print(f"$ {block}{ran.stdout}{ran.stderr}")
        assert ran.returncode == 0, f"block {index} exited {ran.returncode}:\n{block}\n{ran.stdout}\n{ran.stderr}"
        pairs = (item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
        self.env = dict(pairs)

    def start(self, block: str, index: int) -> None:
        """Run a block the reader starts in another terminal and wait until it says it is ready.

        Its own process group, so `stop` ends it all.
        """
        log = self.work / f"background{index}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                ["bash", "-c", block],
                cwd=self.work,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append((process, log))
        _wait(lambda: any(word in log.read_text() for word in READY) or process.poll() is not None, block)
        assert process.poll() is None, f"{block} stopped:\n{log.read_text()}"

    def stop(self) -> None:
        for process, _ in self.background:
            if process.poll() is None:
                os.killpg(process.pid, 15)
                process.wait(10)
        # The server may still hold the killed listener's long poll: end its session so the poll returns
        # before the database is dropped.
        with self.app.app_context():
            sessions = sa.select(WebhookListenSession.id)
            db.session.execute(sa.delete(WebhookListenEvent).where(WebhookListenEvent.session_id.in_(sessions)))
            db.session.execute(sa.delete(WebhookListenSession))
            db.session.commit()
        time.sleep(1)


def test_the_tutorial_runs_as_written_and_ends_with_a_listed_discounting_app(souk, tmp_path):
    started = time.monotonic()
    blocks = BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 5 and sum(1 for background, _ in blocks if background) == 2
    walk = Walk(souk, tmp_path)
    prose = {"$SOUK_CLIENT_ID": walk.register, "webhooks trigger": walk.approve_install_and_order}
    done: set[str] = set()
    try:
        for index, (background, block) in enumerate(blocks):
            block = block.replace("8000", str(walk.port))
            for marker, step in prose.items():
                if marker in block and marker not in done:
                    done.add(marker)
                    step()
            if background:
                walk.start(block, index)
            else:
                walk.run(block, index)
        assert done == set(prose)

        app_log, listen_log = walk.background[0][1], walk.background[1][1]
        # The first trigger reached the app straight; the second came from Souk and the listener both,
        # and the app logged it once.
        _wait(lambda: "→ 204" in listen_log.read_text(), "the listener to forward the test event")
        _wait(lambda: app_log.read_text().count("order.paid test") >= 2, "both test events")
        time.sleep(1)  # a third line would come now, if the app logged a delivery twice
        assert app_log.read_text().count("order.paid test") == 2, app_log.read_text()
        assert "installed on shp_" in app_log.read_text()
        print("app:", *(line for line in app_log.read_text().splitlines() if "order.paid" in line), sep="\n  ")
    finally:
        walk.stop()
    print(f"tutorial walked in {time.monotonic() - started:.1f} s")
