"""Webhook secrets at rest: encrypted, because the platform must read them back to sign.

A hash would not do (HMAC signing needs the secret itself). Secrets are sealed with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key derived with HKDF from the app's
``SOUK_WEBHOOK_SECRETS_KEY`` setting, or from ``SECRET_KEY`` when that is not set. Changing the key
makes stored secrets unreadable: rotate every subscription's secret afterwards.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class UnreadableSecret(ValueError):
    """A stored secret sealed under another key (or damaged)."""


class SecretBox:
    def __init__(self, master_key: str) -> None:
        if not master_key:
            raise ValueError("a SecretBox needs a non-empty key")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"souk webhook secrets v1").derive(
            master_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise UnreadableSecret("the webhook secret was sealed under another key") from exc
