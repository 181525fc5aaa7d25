"""Check that a webhook delivery comes from Souk before trusting it (Standard Webhooks signatures).

::

    from souk_sdk.webhooks import WebhookVerificationError, verify

    @app.post("/webhooks/souk")
    def receive():
        try:
            event = verify(request.get_data(), request.headers, SECRETS)
        except WebhookVerificationError as error:
            return {"error": error.reason}, 400
        ...  # deduplicate on request.headers["webhook-id"]; compare event["data"]["version"]

Pass the raw body bytes, not re-serialised JSON: the signature covers the exact bytes. During a
secret rotation pass both secrets; the delivery is accepted if it is signed with either.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_TOLERANCE", "WebhookVerificationError", "verify"]

#: Seconds a delivery's timestamp may differ from now, either way (replays older than this fail).
DEFAULT_TOLERANCE = 300

_SECRET_PREFIX = "whsec_"
_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class WebhookVerificationError(ValueError):
    """The delivery is not to be trusted. ``reason`` is a stable code, the message says more.

    Reasons: ``missing-header``, ``invalid-timestamp``, ``timestamp-too-old``, ``timestamp-too-new``,
    ``no-signature``, ``signature-mismatch``, ``invalid-payload``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secrets: str | Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: dt.datetime | float | None = None,
) -> dict[str, Any]:
    """The delivery's JSON body, once its signature and timestamp check out.

    ``headers`` may use any letter case. ``secrets`` are ``whsec_<base64>`` strings (the prefix is
    optional); a signature made with any of them is accepted. ``now`` is a timezone-aware datetime
    or Unix seconds (default: the system clock). Raises ``WebhookVerificationError``; raises
    ``ValueError`` for a secret that is not base64, which is a configuration mistake.
    """
    keys = [_secret_key(s) for s in ([secrets] if isinstance(secrets, str) else secrets)]
    if not keys:
        raise ValueError("pass at least one webhook secret")
    body = payload.encode() if isinstance(payload, str) else bytes(payload)

    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in _HEADERS if not lowered.get(name, "").strip()]
    if missing:
        raise WebhookVerificationError("missing-header", f"The delivery has no {', '.join(missing)} header.")
    msg_id, raw_timestamp, signature_header = (lowered[name].strip() for name in _HEADERS)

    if not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise WebhookVerificationError(
            "invalid-timestamp", f"webhook-timestamp must be Unix seconds, got {raw_timestamp[:40]!r}."
        )
    timestamp = int(raw_timestamp)
    current = _unix_seconds(now)
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            "timestamp-too-old", f"The delivery was signed {current - timestamp:.0f} s ago (more than {tolerance} s)."
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            "timestamp-too-new", f"The delivery is dated {timestamp - current:.0f} s ahead (more than {tolerance} s)."
        )

    offered = _v1_signatures(signature_header)
    if not offered:
        raise WebhookVerificationError("no-signature", "webhook-signature holds no 'v1,<base64>' signature.")
    signed = msg_id.encode() + b"." + raw_timestamp.encode() + b"." + body
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    # Compare every pair so that the time taken does not tell which one matched.
    matched = False
    for candidate in offered:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise WebhookVerificationError(
            "signature-mismatch", "No signature matches: a wrong secret, or the body was changed on the way."
        )

    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("invalid-payload", "The signed body is not JSON.") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("invalid-payload", "The signed body is not a JSON object.")
    return event


def _secret_key(secret: str) -> bytes:
    encoded = secret.strip().removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def _v1_signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue  # other schemes (v1a asymmetric signatures) are for other verifiers
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def _unix_seconds(now: dt.datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware: a naive datetime would shift the window")
        return now.timestamp()
    return float(now)
