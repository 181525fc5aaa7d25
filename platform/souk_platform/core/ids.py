"""The one ID generator: opaque, type-prefixed, time-ordered strings (``ord_01J…``)."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return ``<prefix>_<26 chars>``: 48-bit milliseconds then 80 random bits.

    IDs sort by creation time (to the millisecond), which cursor pagination relies on.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_encode(millis, 10)}{_encode(rand, 16)}"


def issued_at_millis(value: str) -> int | None:
    """When ``new_id`` made ``value``, in Unix milliseconds; None for an id of another shape."""
    _, underscore, body = value.rpartition("_")
    if not underscore or len(body) != 26:
        return None
    millis = 0
    for char in body[:10]:
        digit = _ALPHABET.find(char)
        if digit < 0:
            return None
        millis = millis * 32 + digit
    return millis


ID_LENGTH = 64  # column width for any prefixed id
