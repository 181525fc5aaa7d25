"""Standard Webhooks signatures (https://www.standardwebhooks.com), plain Python.

A secret is ``whsec_<base64 of 24 random bytes>``. A signature is ``v1,<base64 HMAC-SHA256>`` over
``<webhook-id>.<webhook-timestamp>.<body>``; during a secret rotation the ``webhook-signature`` header
carries one signature per valid secret, separated by spaces, and a verifier accepts any of them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 24


class InvalidSecret(ValueError):
    """A string that is not a ``whsec_`` secret."""


def new_secret() -> str:
    """A fresh random ``whsec_…`` secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_…`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret("a webhook secret starts with 'whsec_'")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("a webhook secret is base64 after 'whsec_'") from exc
    if len(key) < 16:
        raise InvalidSecret("a webhook secret holds at least 16 bytes")
    return key


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``msg_id.timestamp.body`` with ``secret``."""
    signed = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(valid_secrets: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per valid secret (two during a rotation)."""
    return " ".join(sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in valid_secrets)


def webhook_headers(valid_secrets: Iterable[str], *, msg_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt sent at ``at`` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime would sign the wrong timestamp")
    timestamp = int(at.timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(valid_secrets, msg_id=msg_id, timestamp=timestamp, body=body),
    }
