"""The ledger accounts billing moves money between."""

from __future__ import annotations

from souk_platform.db import DbSession
from souk_platform.ledger.models import LedgerAccount
from souk_platform.ledger.services import PLATFORM, get_account


def _shop_balance(session: DbSession, shop_id: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=shop_id, kind="shop.balance", owner_id=shop_id, unit=currency)


def _developer_account(session: DbSession, developer_id: str, kind: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=developer_id, unit=currency)


def _platform_account(session: DbSession, kind: str, currency: str) -> LedgerAccount:
    return get_account(session, shop_id=PLATFORM, kind=kind, owner_id=PLATFORM, unit=currency)
