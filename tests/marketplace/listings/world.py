"""Builders for the listing and rating tests: developers' apps, images, submissions, a listed app."""

from __future__ import annotations

import base64
import datetime as dt
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import wasmtime
from flask import Flask

from factories import UserFactory
from souk_marketplace.listings import services, tasks
from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.apps.services import register_app
from souk_platform.oauth.services import issue_app_token
from souk_platform.plugins.models import Plugin
from souk_platform.webhooks.runtime import runtime_for

ROOT = Path(__file__).resolve().parents[3]
TIERED_DISCOUNT = (ROOT / "sample_plugins" / "tiered_discount" / "plugin.wasm").read_bytes()


# A declared test of the sample tiered discount (满80减10), as a manifest carries it.
DISCOUNT_TEST = {
    "name": "80 off 10",
    "input": {
        "lines": [{"sku_id": "sku_1", "quantity": 1, "unit_price": 10000}],
        "customer": None,
        "subtotal": 10000,
        "config": {"tiers": [{"min_spend": 8000, "amount_off": 1000}]},
    },
    "expect": {"discounts": [{"label": "满80减10", "amount": 1000}]},
}


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny, grey) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
ICON, SHOT = png(2, 2), png(3, 2)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def manifest(**extra: Any) -> dict[str, Any]:
    """A manifest that passes every check offline (no webhooks, no plugins); ``extra`` overrides keys."""
    base: dict[str, Any] = {
        "name": "Full Reduction Helper",
        "description": "满减 rules for every shop.",
        "client_type": "confidential",
        "redirect_uris": ["https://helper.example.com/oauth/callback"],
        "scopes": ["read_orders", "write_coupons"],
        "pricing": [
            {"id": "free", "kind": "free"},
            {"id": "pro", "kind": "recurring", "price": 9900, "currency": "CNY", "interval": "month", "trial_days": 14},
        ],
    }
    base.update(extra)
    return base


def make_app(session: Any, **manifest_overrides: Any) -> tuple[Any, App, AppVersion]:
    """A developer and their app, registered through the apps service."""
    developer = UserFactory(is_developer=True)
    app, version, _secret = register_app(
        session, developer=developer, manifest_text=json.dumps(manifest(**manifest_overrides))
    )
    session.commit()
    return developer, app, version


def app_token(session: Any, app: App, now: dt.datetime) -> dict[str, str]:
    _, plaintext = issue_app_token(session, app_id=app.id, now=now)
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


TEXTS = {
    "en": {
        "name": "Full Reduction Helper",
        "tagline": "Spend-and-save discounts in a minute",
        "description": "Set up spend thresholds with money off, and watch loyalty grow.",
    },
    "zh_CN": {
        "name": "满减助手",
        "tagline": "一分钟配置满减活动",
        "description": "设置满减门槛，提升会员复购。",
    },
}


def draft(**overrides: Any) -> services.SubmissionDraft:
    values: dict[str, Any] = {
        "texts": json.loads(json.dumps(TEXTS)),
        "category": "marketing",
        "support_contact": "help@helper.example.com",
        "privacy_url": "https://helper.example.com/privacy",
        "changelog": "First release.",
        "scope_justifications": {"read_orders": "To see which orders qualify.", "write_coupons": "To issue coupons."},
        "icon": ICON,
        "screenshots": [SHOT],
    }
    values.update(overrides)
    return services.SubmissionDraft(**values)


def submission_json(**overrides: Any) -> dict[str, Any]:
    """The API body of a good submission."""
    body: dict[str, Any] = {
        "texts": json.loads(json.dumps(TEXTS)),
        "category": "marketing",
        "icon": b64(ICON),
        "screenshots": [b64(SHOT)],
        "support_contact": "help@helper.example.com",
        "privacy_url": "https://helper.example.com/privacy",
        "changelog": "First release.",
        "scope_justifications": {"read_orders": "To see which orders qualify.", "write_coupons": "To issue coupons."},
    }
    body.update(overrides)
    return body


def attached(session: Any, obj: Any) -> Any:
    """``obj`` loaded in ``session`` again (a test client's request ends with the session closed)."""
    return session.get(type(obj), sa.inspect(obj).identity[0])


def submit(session: Any, flask_app: Flask, app: App, now: dt.datetime, **overrides: Any) -> ListingSubmission:
    app = attached(session, app)
    submission = services.submit_listing(
        session, app=app, draft=draft(**overrides), box=runtime_for(flask_app).box, now=now
    )
    session.commit()
    return submission


def run_checks(submission_id: str) -> str:
    """Run the check job the submission enqueued, here (the job itself: real sandbox, real HTTP client).

    Inside the test's app context: a context of its own would close the test's session when it ends.
    """
    return tasks.run_submission_checks(submission_id)


def admin() -> Any:
    return UserFactory(is_platform_admin=True)


def list_app(session: Any, flask_app: Flask, app: App, now: dt.datetime, **overrides: Any) -> Listing:
    """Submit, check and approve: the app is listed."""
    app_id = sa.inspect(app).identity[0]
    submission = submit(session, flask_app, app, now, **overrides)
    run_checks(submission.id)  # in the demo wiring the enqueued job may have run them first: the same result
    submission = session.get(ListingSubmission, submission.id)
    session.refresh(submission)
    assert submission.status == "in_review", submission.checks
    services.approve_submission(
        session, submission_id=submission.id, admin=admin(), checklist=list(services.REVIEW_CHECKLIST), now=now
    )
    session.commit()
    listing = services.listing_for_app(session, app_id)
    assert listing is not None and listing.state == "listed"
    return listing


def upload_module(session: Any, version: AppVersion, module_path: str, point: str, wasm: bytes) -> Plugin:
    """An app version's module, stored as the modules endpoint stores it."""
    import hashlib

    plugin = Plugin(
        shop_id=None,
        app_version_id=version.id,
        module_path=module_path,
        name=module_path,
        point=point,
        sha256=hashlib.sha256(wasm).hexdigest(),
        size_bytes=len(wasm),
        module=wasm,
    )
    session.add(plugin)
    session.commit()
    return plugin


def install(session: Any, app: App, shop_id: str, installed_at: dt.datetime, **fields: Any) -> Installation:
    """An installation of the app on the shop, made at ``installed_at``."""
    app = attached(session, app)
    installation = Installation(
        app_id=app.id,
        shop_id=shop_id,
        app_version_id=app.current_version_id,
        granted_scopes=["read_orders"],
        status=fields.pop("status", "active"),
        installed_at=installed_at,
        **fields,
    )
    session.add(installation)
    session.commit()
    return installation


def constant_module(output: Any) -> bytes:
    """An ABI v1 module that ignores its input and answers ``output``."""
    encoded = json.dumps(output, separators=(",", ":")).encode()
    escaped = "".join(f"\\{byte:02x}" for byte in encoded)
    wat = f"""
    (module
      (memory (export "memory") 1)
      (data (i32.const 16) "{escaped}")
      (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
      (func (export "run") (param $p i32) (param $n i32) (result i64)
        (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const {len(encoded)}))))
    """
    return bytes(wasmtime.wat2wasm(wat))


LOOPING = bytes(
    wasmtime.wat2wasm(
        """
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
  (func (export "run") (param $p i32) (param $n i32) (result i64) (loop $forever (br $forever)) (i64.const 0)))
"""
    )
)
WITH_IMPORT = bytes(
    wasmtime.wat2wasm(
        """
(module
  (import "env" "now" (func $now (result i64)))
  (memory (export "memory") 1)
  (func (export "alloc") (param $n i32) (result i32) (i32.const 8192))
  (func (export "run") (param $p i32) (param $n i32) (result i64) (call $now)))
"""
    )
)
