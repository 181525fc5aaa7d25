"""Where listing things live on the web (Flask glue): images, the app page, and the Install link."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from flask import url_for

from souk_marketplace.listings.models import Listing, ListingSubmission
from souk_platform.apps.models import App, AppVersion


def image_url(image_id: str, *, external: bool = False) -> str:
    return url_for("listings.image", image_id=image_id, _external=external)


def app_page_url(listing: Listing, *, external: bool = False) -> str:
    return url_for("market.app_page", ref=listing.slug, _external=external)


def install_link(
    app: App, version: AppVersion, submission: ListingSubmission, *, with_state: bool, external: bool = False
) -> tuple[str, str]:
    """(kind, URL) of the Install button: the app's own install URL when it declared one (public PKCE
    clients must), else the consent page for the listed version's first redirect URI and its scopes.

    ``with_state`` adds a fresh random ``state``, as a page's button does; API callers add their own.
    """
    if submission.install_url:
        return "external", submission.install_url
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": version.redirect_uris[0] if version.redirect_uris else "",
        "scope": " ".join(version.scopes),
    }
    if with_state:
        query["state"] = secrets.token_urlsafe(16)
    return "oauth", url_for("oauth.authorize", _external=external) + "?" + urlencode(query)
