"""Souk's OAuth 2 authorization server (DESIGN.md §5).

``services`` holds the protocol-independent token lifecycle (codes, rotation, families, revocation);
``server`` adapts it to authlib's grants and endpoints; ``views`` and ``api`` are the Flask glue.
"""
