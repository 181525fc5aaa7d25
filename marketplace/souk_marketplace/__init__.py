"""The Souk marketplace: listings and review, billing and payouts, ratings, crowdfunding, service market.

It is a Flask extension of the platform: ``souk_marketplace.app.register`` is named in the
``souk.extensions`` entry point group, and the platform's app factory calls it with the app and the
flask-smorest ``Api``. Imports go one way: the marketplace imports ``souk_platform``, never the reverse.
"""
