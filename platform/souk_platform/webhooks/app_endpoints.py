"""The webhook endpoints an app declares in its manifest, and the app's own signing secret.

An app lists endpoints in its manifest (``webhooks: [{topic, uri}]``). When a shop installs the app,
or consents to a version whose endpoints differ, each URI becomes one subscription of the installation
(``source`` "manifest") for the declared topics the merchant's grant allows; URIs the new version no
longer declares lose their subscription. So an app receives its events from the first install on,
without calling the subscriptions API from its OAuth callback.

Manifest subscriptions are signed with the **app's webhook secret**: one per app, like its client
secret, so the app verifies every shop's deliveries with one secret it can read in the developer
console (or through ``GET /api/v1/app/webhook-secret``) before any shop has installed it. Each
subscription keeps a sealed copy, so delivery reads nothing more than for any other subscription;
rotating the app's secret rewrites those copies, the old secret signing alongside for 24 hours.
The subscriptions API refuses to change or delete a manifest subscription (409): the manifest owns it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.scopes import grants
from souk_platform.db import DbSession
from souk_platform.webhooks import catalogue
from souk_platform.webhooks.models import WebhookSubscription
from souk_platform.webhooks.secret_box import SecretBox, UnreadableSecret
from souk_platform.webhooks.services import ROTATION_OVERLAP, remove_subscription, required_scope
from souk_platform.webhooks.signing import new_secret
from souk_platform.webhooks.ssrf import registration_problem

MANIFEST_SOURCE = "manifest"


def app_webhook_secret(session: DbSession, *, app: App, box: SecretBox) -> str:
    """The app's current ``whsec_`` secret; issued on first use (and again if its key was lost)."""
    current = current_app_webhook_secret(app, box=box)
    if current is not None:
        return current
    # None yet, or sealed under a key that changed: nothing can sign with that one any more.
    secret = new_secret()
    app.webhook_secret_sealed = box.seal(secret)
    app.previous_webhook_secret_sealed = app.previous_webhook_secret_expires_at = None
    _reseal_subscriptions(session, app=app)
    session.flush()
    return secret


def current_app_webhook_secret(app: App, *, box: SecretBox) -> str | None:
    """The app's secret if it has one that can be read (for pages, which change nothing); else None."""
    return _opened(app.webhook_secret_sealed, box)


def previous_app_webhook_secret(app: App, *, box: SecretBox, now: dt.datetime) -> str | None:
    """The secret being rotated out, while it still signs; else None."""
    expires = app.previous_webhook_secret_expires_at
    if expires is None or now >= expires:
        return None
    return _opened(app.previous_webhook_secret_sealed, box)


def _opened(sealed: str | None, box: SecretBox) -> str | None:
    if not sealed:
        return None
    try:
        return box.open(sealed)
    except UnreadableSecret:
        return None


def rotate_app_webhook_secret(session: DbSession, *, app: App, box: SecretBox, now: dt.datetime) -> str:
    """A new secret for the app; the current one keeps signing beside it for 24 hours."""
    app_webhook_secret(session, app=app, box=box)  # make sure there is a current one to keep
    secret = new_secret()
    app.previous_webhook_secret_sealed = app.webhook_secret_sealed
    app.previous_webhook_secret_expires_at = now + ROTATION_OVERLAP
    app.webhook_secret_sealed = box.seal(secret)
    _reseal_subscriptions(session, app=app)
    session.flush()
    return secret


def _reseal_subscriptions(session: DbSession, *, app: App) -> None:
    """Give every manifest subscription of ``app`` the app's current (and previous) sealed secret."""
    installations = sa.select(Installation.id).where(Installation.app_id == app.id)
    session.execute(
        sa.update(WebhookSubscription)
        .where(
            WebhookSubscription.installation_id.in_(installations),
            WebhookSubscription.source == MANIFEST_SOURCE,
        )
        .values(
            secret_sealed=app.webhook_secret_sealed,
            previous_secret_sealed=app.previous_webhook_secret_sealed,
            previous_secret_expires_at=app.previous_webhook_secret_expires_at,
        )
        .execution_options(synchronize_session="fetch")
    )


def declared_endpoints(version: AppVersion, granted_scopes: list[str]) -> dict[str, list[str]]:
    """URI -> sorted topics of the version's manifest the grant allows (known event types only).

    A URI the SSRF guard refuses for the address it spells gets no subscription: manifests are checked
    when uploaded, but a version stored before that check may still declare one.
    """
    endpoints: dict[str, set[str]] = defaultdict(set)
    for hook in version.manifest.get("webhooks") or []:
        if registration_problem(hook["uri"], allow_loopback=True):
            continue
        topic = hook["topic"]
        scope = required_scope(topic)
        if catalogue.matches_any(topic) and (scope is None or grants(tuple(granted_scopes), scope)):
            endpoints[hook["uri"]].add(topic)
    return {uri: sorted(topics) for uri, topics in endpoints.items()}


def sync_manifest_subscriptions(
    session: DbSession, *, installation: Installation, app: App, version: AppVersion, box: SecretBox, now: dt.datetime
) -> list[WebhookSubscription]:
    """Make the installation's manifest subscriptions match ``version``'s endpoints; return them.

    A URI still declared keeps its subscription (and its delivery log), with the topics updated; a
    disabled one stays disabled (the developer re-enables it in the console once it works again).
    """
    wanted = declared_endpoints(version, list(installation.granted_scopes))
    existing = {
        subscription.url: subscription
        for subscription in session.scalars(
            sa.select(WebhookSubscription).where(
                WebhookSubscription.installation_id == installation.id,
                WebhookSubscription.source == MANIFEST_SOURCE,
            )
        )
    }
    for url, subscription in existing.items():
        if url not in wanted:
            remove_subscription(session, subscription)
    if wanted:
        app_webhook_secret(session, app=app, box=box)
    kept = []
    for url, topics in sorted(wanted.items()):
        found = existing.get(url)
        if found is None:
            subscription = WebhookSubscription(
                shop_id=installation.shop_id,
                installation_id=installation.id,
                url=url,
                topics=topics,
                description="Declared in the app's manifest",
                source=MANIFEST_SOURCE,
                secret_sealed=app.webhook_secret_sealed,
                previous_secret_sealed=app.previous_webhook_secret_sealed,
                previous_secret_expires_at=app.previous_webhook_secret_expires_at,
                created_at=now,
            )
            session.add(subscription)
        else:
            subscription = found
            if subscription.topics != topics:
                subscription.topics = topics
        kept.append(subscription)
    session.flush()
    return kept
