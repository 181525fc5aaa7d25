"""souk_sdk.webhooks.verify accepts what Souk's signer and the reference library sign, and nothing else."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from standardwebhooks import Webhook

from souk_platform.webhooks.signing import new_secret, webhook_headers
from souk_sdk.webhooks import WebhookVerificationError, verify

AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
BODY = json.dumps(
    {
        "type": "order.paid",
        "created_at": "2026-03-02T10:00:00Z",
        "shop_id": "shp_1",
        "data": {"id": "ord_1", "version": 3},
    },
    ensure_ascii=False,
).encode()


def reference_headers(
    secret: str, *, msg_id: str = "msg_1", at: dt.datetime = AT, body: bytes = BODY
) -> dict[str, str]:
    """Headers as any Standard Webhooks sender makes them, signed by the reference library."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


def reason_of(body: bytes, headers: dict[str, str], secrets: str | list[str], **kwargs) -> str:
    with pytest.raises(WebhookVerificationError) as refused:
        verify(body, headers, secrets, now=kwargs.pop("now", AT), **kwargs)
    return refused.value.reason


def test_a_delivery_signed_by_souk_is_accepted_and_parsed():
    secret = new_secret()
    headers = webhook_headers([secret], msg_id="whd_01", at=AT, body=BODY)
    event = verify(BODY, headers, secret, now=AT)
    assert event["type"] == "order.paid" and event["data"] == {"id": "ord_1", "version": 3}


def test_a_delivery_signed_by_the_reference_library_is_accepted():
    secret = new_secret()
    assert verify(BODY, reference_headers(secret), [secret], now=AT)["shop_id"] == "shp_1"
    # and the reference library accepts Souk's own signatures (so any verifier works for receivers)
    souk_signed = webhook_headers([secret], msg_id="whd_02", at=dt.datetime.now(dt.UTC), body=BODY)
    assert Webhook(secret).verify(BODY, souk_signed)["data"]["version"] == 3


def test_header_names_in_any_case_and_a_secret_without_prefix():
    secret = new_secret()
    headers = {name.title(): value for name, value in reference_headers(secret).items()}  # Webhook-Id, …
    assert verify(BODY, headers, secret.removeprefix("whsec_"), now=AT)["type"] == "order.paid"
    assert verify(BODY.decode(), headers, secret, now=AT.timestamp())["type"] == "order.paid"


def test_during_a_rotation_either_secret_verifies():
    old, new = new_secret(), new_secret()
    both_signed = webhook_headers([old, new], msg_id="whd_03", at=AT, body=BODY)
    assert len(both_signed["webhook-signature"].split()) == 2
    assert verify(BODY, both_signed, [new], now=AT)["type"] == "order.paid"  # a receiver that already switched
    assert verify(BODY, both_signed, [old], now=AT)["type"] == "order.paid"  # one that has not yet
    signed_with_new_only = webhook_headers([new], msg_id="whd_04", at=AT, body=BODY)
    assert verify(BODY, signed_with_new_only, [old, new], now=AT)["type"] == "order.paid"
    assert reason_of(BODY, signed_with_new_only, [old]) == "signature-mismatch"


def test_a_tampered_body_or_id_or_wrong_secret_is_refused():
    secret = new_secret()
    headers = reference_headers(secret)
    tampered = BODY.replace(b'"version": 3', b'"version": 4')
    assert reason_of(tampered, headers, secret) == "signature-mismatch"
    assert reason_of(BODY, {**headers, "webhook-id": "msg_2"}, secret) == "signature-mismatch"
    assert reason_of(BODY, headers, new_secret()) == "signature-mismatch"
    moved = {**headers, "webhook-timestamp": str(int(AT.timestamp()) + 1)}  # the timestamp is signed too
    assert reason_of(BODY, moved, secret) == "signature-mismatch"


def test_the_tolerance_window_holds_both_ways():
    secret = new_secret()
    headers = reference_headers(secret)
    assert verify(BODY, headers, secret, now=AT + dt.timedelta(seconds=300))
    assert verify(BODY, headers, secret, now=AT - dt.timedelta(seconds=300))
    assert reason_of(BODY, headers, secret, now=AT + dt.timedelta(seconds=301)) == "timestamp-too-old"
    assert reason_of(BODY, headers, secret, now=AT - dt.timedelta(seconds=301)) == "timestamp-too-new"
    assert verify(BODY, headers, secret, now=AT + dt.timedelta(minutes=30), tolerance=3600)
    with pytest.raises(WebhookVerificationError, match="301 s ago"):
        verify(BODY, headers, secret, now=AT + dt.timedelta(seconds=301))


def test_a_replayed_old_delivery_fails_even_when_its_signature_is_good():
    secret = new_secret()
    yesterday = AT - dt.timedelta(days=1)
    headers = webhook_headers([secret], msg_id="whd_05", at=yesterday, body=BODY)
    assert verify(BODY, headers, secret, now=yesterday)
    assert reason_of(BODY, headers, secret) == "timestamp-too-old"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing):
    secret = new_secret()
    headers = {k: v for k, v in reference_headers(secret).items() if k != missing}
    with pytest.raises(WebhookVerificationError, match=missing) as refused:
        verify(BODY, headers, secret, now=AT)
    assert refused.value.reason == "missing-header"
    assert reason_of(BODY, {**reference_headers(secret), missing: " "}, secret) == "missing-header"


def test_malformed_headers_are_refused_with_a_reason():
    secret = new_secret()
    headers = reference_headers(secret)
    assert reason_of(BODY, {**headers, "webhook-timestamp": "1772445600.5"}, secret) == "invalid-timestamp"
    assert reason_of(BODY, {**headers, "webhook-timestamp": "yesterday"}, secret) == "invalid-timestamp"
    assert reason_of(BODY, {**headers, "webhook-signature": "v1a,abc v2,def"}, secret) == "no-signature"
    assert reason_of(BODY, {**headers, "webhook-signature": "v1,@@@ v1,"}, secret) == "no-signature"
    # garbage next to a good signature does not hide it
    padded = {**headers, "webhook-signature": "v1,@@@ v1a,xyz " + headers["webhook-signature"]}
    assert verify(BODY, padded, secret, now=AT)["type"] == "order.paid"


def test_a_signed_body_that_is_not_a_json_object_is_refused():
    secret = new_secret()
    for body in (b"not json", b"[1, 2]"):
        assert reason_of(body, reference_headers(secret, body=body), secret) == "invalid-payload"


def test_a_bad_secret_is_a_configuration_error_not_a_refusal():
    headers = reference_headers(new_secret())
    with pytest.raises(ValueError, match="base64") as bad:
        verify(BODY, headers, "whsec_not base64!", now=AT)
    assert not isinstance(bad.value, WebhookVerificationError)
    with pytest.raises(ValueError, match="at least one"):
        verify(BODY, headers, [], now=AT)
    with pytest.raises(ValueError, match="timezone"):
        verify(BODY, headers, new_secret(), now=dt.datetime(2026, 3, 2, 10, 0))


def test_an_unpadded_secret_is_read_like_the_reference_library_reads_it():
    key = b"0123456789abcdefghij"  # 20 bytes: base64 needs padding
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    assert verify(BODY, reference_headers(unpadded), unpadded, now=AT)["type"] == "order.paid"
