"""Souk's OAuth 2 authorization server (docs/architecture.md §10).

``services`` holds the protocol-independent token lifecycle (codes, rotation, families, revocation);
``server`` adapts it to authlib's grants and endpoints; ``views`` and ``api`` are the Flask glue.
"""
