"""The automated checks of a submission: real modules in the real sandbox, real HTTPS endpoints, signed messages."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import render_template_string
from marketplace.listings.world import (
    DISCOUNT_TEST,
    LOOPING,
    TIERED_DISCOUNT,
    WITH_IMPORT,
    constant_module,
    make_app,
    run_checks,
    submit,
    upload_module,
)
from rq import Queue
from standardwebhooks import Webhook

from souk_marketplace.listings import checks, services, tasks
from souk_marketplace.listings.models import ListingEvent, ListingSubmission
from souk_platform.events.models import OutboxEvent
from souk_platform.webhooks.app_endpoints import current_app_webhook_secret
from souk_platform.webhooks.runtime import runtime_for
from souk_platform.webhooks.ssrf import webhook_client
from souk_sandbox import Runtime


def _plugin(tests: list[dict[str, Any]] | None = None, module: str = "plugins/discount.wasm") -> dict[str, Any]:
    entry: dict[str, Any] = {"point": "cart.discounts", "module": module}
    if tests is not None:
        entry["tests"] = tests
    return entry


def _checks_of(session, submission_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    submission = session.get(ListingSubmission, submission_id)
    session.refresh(submission)
    return {(c["check"], c["subject"]): c for c in submission.checks}


def test_a_clean_submission_passes_every_check_and_enters_the_queue(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    assert submission.status == "checking"
    assert run_checks(submission.id) == "in_review"
    found = _checks_of(session, submission.id)
    assert {key[0] for key in found} == {"manifest", "redirect_uris", "scopes"}
    assert all(c["passed"] for c in found.values())
    assert services.listing_for_app(session, a.id).state == "in_review"
    assert services.search_market(session) == []  # nothing listed before a reviewer approves


def test_check_messages_keep_their_wording_so_pages_show_them_in_chinese(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    run_checks(submission.id)
    stored = list(_checks_of(session, submission.id).values())
    assert stored and all(c["wording"] % c["values"] == c["message"] for c in stored)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        page = render_template_string(
            '{% from "listings/_labels.html" import checks_list %}{{ checks_list(checks) }}', checks=stored
        )
    assert "清单有效：" in page and "The manifest is valid" not in page
    legacy = {**stored[0], "wording": "", "values": {}, "message": "Checked before wordings were kept."}
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        page = render_template_string(
            '{% from "listings/_labels.html" import checks_list %}{{ checks_list(checks) }}', checks=[legacy]
        )
    assert "Checked before wordings were kept." in page  # older rows still show their English message


def test_a_real_plugin_runs_its_declared_tests_and_passes(app, session, clock):
    _, a, version = make_app(session, plugins=[_plugin([DISCOUNT_TEST])])
    upload_module(session, version, "plugins/discount.wasm", "cart.discounts", TIERED_DISCOUNT)
    submission = submit(session, app, a, clock.now())
    assert run_checks(submission.id) == "in_review"
    plugin = _checks_of(session, submission.id)[("plugin", "cart.discounts plugins/discount.wasm")]
    assert plugin["passed"] and "1 of 1 test(s) passed" in plugin["message"] and "fuel" in plugin["message"]


@pytest.mark.parametrize(
    ("wasm", "tests", "expected"),
    [
        (None, [DISCOUNT_TEST], "No module was uploaded for plugins/discount.wasm"),
        (WITH_IMPORT, [DISCOUNT_TEST], "env.now"),
        (TIERED_DISCOUNT, [], "declares no tests"),
        (TIERED_DISCOUNT, [{**DISCOUNT_TEST, "expect": {"discounts": []}}], "is not the expected one"),
        (TIERED_DISCOUNT, [{"name": "no lines", "input": {"subtotal": 1}}], "not a valid cart.discounts input"),
        (LOOPING, [DISCOUNT_TEST], "test '80 off 10': "),
        (
            constant_module({"discounts": "nope"}),
            [{"name": "shape", "input": DISCOUNT_TEST["input"]}],
            "schema_invalid",
        ),
    ],
    ids=["not-uploaded", "imports", "no-tests", "wrong-output", "bad-input", "endless-loop", "schema-invalid-output"],
)
def test_a_plugin_that_is_missing_broken_or_wrong_fails_with_a_reason(app, session, clock, wasm, tests, expected):
    _, a, version = make_app(session, plugins=[_plugin(tests)])
    if wasm is not None:
        upload_module(session, version, "plugins/discount.wasm", "cart.discounts", wasm)
    submission = submit(session, app, a, clock.now())
    assert run_checks(submission.id) == "checks_failed"
    plugin = _checks_of(session, submission.id)[("plugin", "cart.discounts plugins/discount.wasm")]
    assert not plugin["passed"] and expected in plugin["message"], plugin["message"]


def test_an_endless_loop_is_stopped_by_the_production_limits(app, session, clock):
    _, a, version = make_app(session, plugins=[_plugin([DISCOUNT_TEST])])
    upload_module(session, version, "plugins/discount.wasm", "cart.discounts", LOOPING)
    submission = submit(session, app, a, clock.now())
    run_checks(submission.id)
    message = _checks_of(session, submission.id)[("plugin", "cart.discounts plugins/discount.wasm")]["message"]
    assert "fuel_exhausted" in message or "timeout" in message


def test_failed_checks_keep_the_submission_out_of_the_queue_with_reasons(app, session, clock):
    _, a, _ = make_app(session, pricing=[])
    submission = submit(session, app, a, clock.now(), scope_justifications={"read_orders": "To see orders."})
    assert run_checks(submission.id) == "checks_failed"
    found = _checks_of(session, submission.id)
    assert not found[("manifest", "")]["passed"] and "no pricing plan" in found[("manifest", "")]["message"]
    assert not found[("scopes", "")]["passed"] and "write_coupons" in found[("scopes", "")]["message"]
    listing = services.listing_for_app(session, a.id)
    assert listing.state == "draft" and services.review_queue(session) == []
    event = session.query(ListingEvent).filter_by(listing_id=listing.id, action="checks_failed").one()
    assert "write_coupons" in event.reason
    outbox = session.query(OutboxEvent).filter_by(subject_id=listing.id, type="listing.checks_failed").one()
    assert outbox.shop_id is None and outbox.payload["submission"]["status"] == "checks_failed"


def test_a_second_run_of_the_same_checks_changes_nothing(app, session, clock):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    assert run_checks(submission.id) == "in_review"
    assert run_checks(submission.id) == "skipped"
    assert session.query(ListingEvent).filter_by(action="queued").count() == 1


def test_redirect_uris_on_this_computer_fail_unless_loopback_is_allowed():
    uris = ["https://a.example.com/cb", "http://127.0.0.1:8765/callback"]
    assert not checks.check_redirect_uris(uris, allow_loopback=False).passed
    assert "localhost" in checks.check_redirect_uris(uris, allow_loopback=False).message
    assert checks.check_redirect_uris(uris, allow_loopback=True).passed
    assert not checks.check_redirect_uris([], allow_loopback=True).passed


def test_a_redirect_uri_on_souks_own_origin_passes_even_on_this_computer():
    """The demo's own apps land on pages Souk serves: the merchant's browser reaches them by definition."""
    own = ["http://127.0.0.1:5000/demo-apps/tiered-discount/callback"]
    assert checks.check_redirect_uris(own, allow_loopback=False, platform_origin="http://127.0.0.1:5000").passed
    elsewhere = ["http://127.0.0.1:8000/callback"]  # the developer's own server on this computer: still refused
    assert not checks.check_redirect_uris(
        elsewhere, allow_loopback=False, platform_origin="http://127.0.0.1:5000"
    ).passed


def test_the_sweep_sends_again_the_checks_whose_job_was_lost(app, session, clock, redis):
    _, a, _ = make_app(session)
    submission = submit(session, app, a, clock.now())
    assert tasks.sweep_stale_checks() == 0  # just sent: its job is still due
    clock.advance(minutes=16)
    queue = Queue("souk", connection=redis)
    before = queue.count
    assert tasks.sweep_stale_checks() == 1
    assert queue.count == before + 1
    assert run_checks(submission.id) == "in_review"
    assert tasks.sweep_stale_checks() == 0


# --- webhook endpoints over real HTTPS ---------------------------------------------------------------


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class Endpoint:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.url = ""


@pytest.fixture
def https_endpoint(tmp_path) -> Iterator[tuple[Endpoint, httpx.Client]]:
    """A webhook receiver on https://127.0.0.1, and the guarded client that trusts its certificate."""
    cert, key = _self_signed()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://127.0.0.1:{server.server_address[1]}/hooks"
    trust = ssl.create_default_context(cadata=cert.decode())
    client = webhook_client(allow_loopback=True, connect=httpx.HTTPTransport(verify=trust, retries=0))
    yield state, client
    client.close()
    server.shutdown()
    server.server_close()


SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _plan(manifest: dict[str, Any]) -> checks.CheckPlan:
    return checks.CheckPlan(
        app_id="app_x",
        submission_id="lss_x",
        manifest=manifest,
        modules=[],
        scope_justifications={},
        webhook_secret=SECRET,
    )


def _context(client: httpx.Client, *, allow_loopback: bool = True) -> checks.CheckContext:
    return checks.CheckContext(
        load_module=Runtime().load, http=client, allow_loopback=allow_loopback, now=dt.datetime.now(dt.UTC)
    )


def test_a_webhook_endpoint_gets_a_test_message_any_standard_webhooks_verifier_accepts(https_endpoint):
    endpoint, client = https_endpoint
    result = checks.check_webhook(endpoint.url, _plan({}), _context(client))
    assert result.passed and result.message.startswith("Answered 200")
    headers, body = endpoint.received[0]
    Webhook(SECRET).verify(body, headers)  # raises if the signature is not valid
    message = json.loads(body)
    assert message["type"] == "webhook.test" and message["data"]["listing_submission_id"] == "lss_x"


@pytest.mark.parametrize("status", [500, 302, 404])
def test_an_endpoint_answering_anything_but_2xx_fails(https_endpoint, status):
    endpoint, client = https_endpoint
    endpoint.status = status
    result = checks.check_webhook(endpoint.url, _plan({}), _context(client))
    assert not result.passed and f"Answered {status}" in result.message


def test_unreachable_and_refused_endpoints_fail(https_endpoint):
    endpoint, client = https_endpoint
    closed = checks.check_webhook("https://127.0.0.1:1/hooks", _plan({}), _context(client))
    assert not closed.passed and closed.message.startswith("Not reachable")
    guarded = webhook_client(allow_loopback=False)
    refused = checks.check_webhook(endpoint.url, _plan({}), _context(guarded, allow_loopback=False))
    assert not refused.passed and "SSRF guard" in refused.message and endpoint.received == []
    private = checks.check_webhook("https://10.1.2.3/hooks", _plan({}), _context(guarded, allow_loopback=False))
    assert not private.passed and "private address" in private.message


def test_every_webhook_of_the_manifest_is_checked_once(https_endpoint):
    endpoint, client = https_endpoint
    manifest = {
        "webhooks": [{"topic": "order.paid", "uri": endpoint.url}, {"topic": "order.created", "uri": endpoint.url}],
        "redirect_uris": ["https://a.example.com/cb"],
        "scopes": [],
    }
    results = checks.run_checks(_plan(manifest), _context(client))
    assert [r.check for r in results].count("webhook") == 1 and len(endpoint.received) == 1


def test_the_check_job_signs_with_the_apps_webhook_secret_and_reaches_the_manifest_endpoints(app, session, clock):
    # An https endpoint nobody listens on: the job's own guarded client reports it, the submission fails.
    _, a, _ = make_app(session, webhooks=[{"topic": "order.paid", "uri": "https://127.0.0.1:1/hooks"}])
    box = runtime_for(app).box
    assert current_app_webhook_secret(a, box=box) is None  # issued by the submission, not before
    submission = submit(session, app, a, clock.now())
    secret = current_app_webhook_secret(a, box=box)
    assert secret and secret.startswith("whsec_")
    session.refresh(submission)
    plan = services.check_plan(session, submission_id=submission.id, box=box)
    assert plan is not None and plan.webhook_secret == secret  # production deliveries' secret, not a test one
    assert run_checks(submission.id) == "checks_failed"
    webhook = _checks_of(session, submission.id)[("webhook", "https://127.0.0.1:1/hooks")]
    assert not webhook["passed"]


def test_webhook_endpoints_signed_by_a_private_ca_are_trusted_once_its_file_is_set(app, https_endpoint, tmp_path):
    endpoint, _trusting = https_endpoint
    plain = webhook_client(allow_loopback=True)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        plain.post(endpoint.url, content=b"{}")
    trusting = webhook_client(allow_loopback=True, ca_file=str(tmp_path / "cert.pem"))
    assert trusting.post(endpoint.url, content=b"{}").status_code == 200
    plain.close()
    trusting.close()

    # The runtime builds a client per setting, so changing SOUK_WEBHOOKS_CA_FILE takes effect at once.
    runtime = runtime_for(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "SOUK_WEBHOOKS_ALLOW_LOOPBACK", True)
        before = runtime.http_for(app)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            before.post(endpoint.url, content=b"{}")
        patch.setitem(app.config, "SOUK_WEBHOOKS_CA_FILE", str(tmp_path / "cert.pem"))
        assert runtime.http_for(app) is not before
        assert runtime.http_for(app).post(endpoint.url, content=b"{}").status_code == 200
        patch.delitem(app.config, "SOUK_WEBHOOKS_CA_FILE")
        assert runtime.http_for(app) is before
