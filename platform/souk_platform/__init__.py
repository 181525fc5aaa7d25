"""Souk's Flask core: commerce capabilities behind OAuth-scoped REST APIs and signed webhooks."""

from souk_platform.app import create_app

__all__ = ["create_app"]
