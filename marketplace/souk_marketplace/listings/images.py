"""Listing images: what an upload may be (PNG, JPEG or WebP by its magic bytes, ≤ 512 KiB)."""

from __future__ import annotations

import base64
import binascii

MAX_IMAGE_BYTES = 512 * 1024
# base64 of MAX_IMAGE_BYTES, with padding: anything longer is over the limit anyway.
MAX_IMAGE_BASE64 = 4 * ((MAX_IMAGE_BYTES + 2) // 3)


class BadImage(ValueError):
    """Why the bytes cannot be a listing image (the message is shown next to the field)."""


def content_type_of(data: bytes) -> str:
    """The image's media type from its first bytes; ``BadImage`` unless PNG, JPEG or WebP within the size limit.

    The declared file name or type is never trusted: browsers and clients send whatever they like.
    """
    if not data:
        raise BadImage("The file is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise BadImage(f"The image is {len(data) // 1024} KiB; at most {MAX_IMAGE_BYTES // 1024} KiB.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise BadImage("Not a PNG, JPEG or WebP image.")


def decode_base64_image(text: str) -> bytes:
    """Strict base64 → bytes (``BadImage`` when it is not base64 or decodes to more than the limit)."""
    if len(text) > MAX_IMAGE_BASE64:
        raise BadImage(f"The image is larger than {MAX_IMAGE_BYTES // 1024} KiB.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadImage("Not valid base64 (standard alphabet, with padding).") from None
