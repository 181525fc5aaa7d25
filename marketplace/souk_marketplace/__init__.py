"""Souk's app marketplace: listings, review, billing, crowdfunding and the service market.

It registers its blueprints on the platform app through the ``souk.extensions`` entry point.
"""
