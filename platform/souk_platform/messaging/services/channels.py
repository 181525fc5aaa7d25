"""Message channels (docs/architecture.md §5.11): the built-in email and inbox of every shop, more email
senders a merchant adds, and the channels installed apps declare in their manifests."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.messaging.errors import ChannelNotFound, InvalidChannel
from souk_platform.messaging.models import MessageChannel
from souk_platform.shops.models import Shop

BUILT_IN = ("email", "inbox")
BUILT_IN_NAMES = {"email": "Email", "inbox": "In-app inbox"}
MAX_DAILY_CAP = 1_000
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def channel_view(channel: MessageChannel, app_name: str | None = None) -> dict[str, Any]:
    return {
        "id": channel.id,
        "kind": channel.kind,
        "name": channel.name,
        "status": channel.status,
        "key": channel.key,
        "installation_id": channel.installation_id or None,
        "app_name": app_name,
        "config": channel.config,
        "daily_cap": channel.daily_cap,
        "built_in": channel.installation_id == "" and channel.key in BUILT_IN,
        "version": channel.version,
        "created_at": channel.created_at,
        "updated_at": channel.updated_at,
    }


def channel_payload(channel: MessageChannel) -> dict[str, Any]:
    view = channel_view(channel)
    view["created_at"] = channel.created_at.isoformat()
    view["updated_at"] = channel.updated_at.isoformat() if channel.updated_at else None
    return view


def channel_views(session: DbSession, channels: list[MessageChannel]) -> list[dict[str, Any]]:
    """Each channel with the name of the app providing it (None for Souk's own)."""
    installations = {c.installation_id for c in channels if c.installation_id}
    names: dict[str, str] = {}
    if installations:
        names = dict(
            session.execute(
                sa.select(Installation.id, App.name)
                .join(App, App.id == Installation.app_id)
                .where(Installation.id.in_(installations))
            ).all()
        )
    return [channel_view(c, names.get(c.installation_id)) for c in channels]


def ensure_built_in_channels(session: DbSession, *, shop_id: str) -> list[MessageChannel]:
    """The shop's email and inbox channels, created on first use (under a lock on the shop, so once)."""
    stmt = sa.select(MessageChannel).where(
        MessageChannel.shop_id == shop_id, MessageChannel.installation_id == "", MessageChannel.key.in_(BUILT_IN)
    )
    found = {c.key: c for c in session.scalars(stmt)}
    if len(found) == len(BUILT_IN):
        return [found[key] for key in BUILT_IN]
    shop = session.scalar(sa.select(Shop).where(Shop.id == shop_id).with_for_update())
    if shop is None:
        raise ChannelNotFound("No such shop.")
    found = {c.key: c for c in session.scalars(stmt.execution_options(populate_existing=True))}
    for key in BUILT_IN:
        if key in found:
            continue
        config = {"from_address": None, "from_name": shop.name} if key == "email" else {}
        channel = MessageChannel(
            shop_id=shop_id, kind=key, name=BUILT_IN_NAMES[key], key=key, installation_id="", config=config
        )
        session.add(channel)
        session.flush()
        _emit(session, channel, "message_channel.created")
        found[key] = channel
    return [found[key] for key in BUILT_IN]


def channels_stmt(shop_id: str, *, kind: str | None = None, status: str | None = None) -> sa.Select[Any]:
    stmt = sa.select(MessageChannel).where(MessageChannel.shop_id == shop_id)
    if kind:
        stmt = stmt.where(MessageChannel.kind == kind)
    if status:
        stmt = stmt.where(MessageChannel.status == status)
    return stmt


def get_channel(session: DbSession, *, shop_id: str, channel_id: str, for_update: bool = False) -> MessageChannel:
    stmt = sa.select(MessageChannel).where(MessageChannel.id == channel_id, MessageChannel.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update()
    channel = session.scalar(stmt)
    if channel is None:
        raise ChannelNotFound(f"No message channel {channel_id} in this shop.")
    return channel


def _clean_name(name: Any) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or not cleaned.isprintable() or len(cleaned) > 100:
        raise InvalidChannel("The name cannot be blank.", errors={"name": ["Give the channel a name."]})
    return cleaned


def _check_cap(cap: Any) -> int | None:
    if cap is None:
        return None
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_DAILY_CAP:
        raise InvalidChannel(
            "The daily cap is a whole number.", errors={"daily_cap": [f"1 to {MAX_DAILY_CAP}, or null for none."]}
        )
    return cap


def _check_config(kind: str, config: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """An email channel's From address and name; inbox and app channels take no settings."""
    if kind != "email":
        if config:
            raise InvalidChannel(
                f"A{'n' if kind == 'inbox' else 'n app'} channel has no settings.",
                errors={f"config.{k}": ["Not a setting of this channel."] for k in sorted(config)},
            )
        return current
    errors: dict[str, list[str]] = {}
    for key in sorted(set(config) - {"from_address", "from_name"}):
        errors[f"config.{key}"] = ["An email channel's settings are from_address and from_name."]
    merged = {**current, **config}
    address = merged.get("from_address")
    if address is not None and (not isinstance(address, str) or len(address) > 320 or not _EMAIL.match(address)):
        errors["config.from_address"] = ["An email address like shop@example.com, or null for Souk's default."]
    name = merged.get("from_name")
    if name is not None and (not isinstance(name, str) or len(name) > 100 or not name.isprintable()):
        errors["config.from_name"] = ["Up to 100 printable characters."]
    if errors:
        raise InvalidChannel("The channel's settings are not valid.", errors=errors)
    return {"from_address": address, "from_name": (name or "").strip() or None}


def create_channel(session: DbSession, *, shop_id: str, fields: dict[str, Any]) -> MessageChannel:
    """Another email sender (a second From address); inbox and app channels are not created by hand."""
    ensure_built_in_channels(session, shop_id=shop_id)
    if fields.get("kind") != "email":
        raise InvalidChannel(
            "Only email channels can be added: the inbox is built in and apps bring their own.",
            errors={"kind": ["Only email."]},
        )
    channel_id = new_id("mch")
    channel = MessageChannel(
        id=channel_id,
        key=channel_id,
        shop_id=shop_id,
        kind="email",
        name=_clean_name(fields.get("name")),
        installation_id="",
        status=fields.get("status") or "active",
        config=_check_config("email", fields.get("config") or {}, {"from_address": None, "from_name": None}),
        daily_cap=_check_cap(fields.get("daily_cap")),
    )
    session.add(channel)
    session.flush()
    _emit(session, channel, "message_channel.created")
    return channel


def update_channel(
    session: DbSession, *, shop_id: str, channel_id: str, changes: dict[str, Any], expected_version: int | None
) -> MessageChannel:
    """Rename, switch on or off, set the daily cap, or (email) the From address and name; 412 when stale."""
    channel = get_channel(session, shop_id=shop_id, channel_id=channel_id)
    check_version(channel.version, expected_version)
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    if "status" in changes:
        values["status"] = changes["status"]
    if "daily_cap" in changes:
        values["daily_cap"] = _check_cap(changes["daily_cap"])
    if "config" in changes:
        values["config"] = _check_config(channel.kind, changes["config"] or {}, channel.config)
    if channel.installation_id and values.get("status") == "active" and channel.status == "retired":
        raise InvalidChannel("The app providing this channel is no longer installed.", errors={"status": ["Retired."]})
    changed = [key for key, value in values.items() if getattr(channel, key) != value]
    if not changed:
        return channel
    for key in changed:
        setattr(channel, key, values[key])
    session.flush()
    _emit(session, channel, "message_channel.updated")
    return channel


def sync_app_channels(session: DbSession, *, installation: Installation, version: AppVersion) -> None:
    """Make the installation's app channels match the version's ``message_channels``: a declared key
    gets a channel (or its old one back), a key no longer declared is retired. Called on install and
    on consent to a new version."""
    declared = {entry["key"]: entry for entry in version.manifest.get("message_channels") or []}
    existing = {
        c.key: c
        for c in session.scalars(
            sa.select(MessageChannel).where(
                MessageChannel.shop_id == installation.shop_id,
                MessageChannel.installation_id == installation.id,
            )
        )
    }
    active = installation.status == "active"
    for key, entry in declared.items():
        channel = existing.get(key)
        config = {"kinds": list(entry.get("kinds") or [])}
        if channel is None:
            channel = MessageChannel(
                shop_id=installation.shop_id,
                kind="app",
                name=entry["name"],
                key=key,
                installation_id=installation.id,
                status="active" if active else "retired",
                config=config,
            )
            session.add(channel)
            session.flush()
            _emit(session, channel, "message_channel.created")
        else:
            status = "active" if active and channel.status == "retired" else channel.status
            if status != channel.status or channel.config != config:  # a merchant's renaming is kept
                channel.status, channel.config = status, config
                session.flush()
                _emit(session, channel, "message_channel.updated")
    for key, channel in existing.items():
        if (key not in declared or not active) and channel.status != "retired":
            channel.status = "retired"
            session.flush()
            _emit(session, channel, "message_channel.updated")


def retire_app_channels(session: DbSession, *, installation: Installation) -> None:
    """An uninstalled app's channels stop taking messages (they stay listed, retired, for the log)."""
    channels = session.scalars(
        sa.select(MessageChannel).where(
            MessageChannel.installation_id == installation.id, MessageChannel.status != "retired"
        )
    )
    for channel in channels:
        channel.status = "retired"
        session.flush()
        _emit(session, channel, "message_channel.updated")


def _emit(session: DbSession, channel: MessageChannel, type: str) -> None:
    emit(
        session,
        shop_id=channel.shop_id,
        type=type,
        subject_type="message_channel",
        subject_id=channel.id,
        payload=channel_payload(channel),
    )
