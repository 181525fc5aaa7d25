"""Which files the service market stores, recognised by their bytes (never by the name or a claimed type)."""

from __future__ import annotations

import re
import unicodedata

MAX_FILE_BYTES = 5 * 1024 * 1024  # a deliverable or attachment on an order
MAX_IMAGE_BYTES = 512 * 1024  # a portfolio image

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
FILE_TYPES = (*IMAGE_TYPES, "image/gif", "application/pdf", "application/zip", "text/plain")


def sniff(content: bytes) -> str | None:
    """The content type the bytes are, among ``FILE_TYPES``; None for anything else (HTML, executables…)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    # ZIP also covers office documents (docx, xlsx, pptx), which are ZIP files.
    if content[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "application/zip"
    return "text/plain" if _is_plain_text(content) else None


def _is_plain_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text[:4096].lstrip().lower()
    # Markup a browser would run is not "plain text", whatever its name says.
    if head.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script")):
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text[:65536])


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def clean_filename(name: str) -> str:
    """A file name safe to show and to send in Content-Disposition: no path, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    return cleaned[:200] or "file"
