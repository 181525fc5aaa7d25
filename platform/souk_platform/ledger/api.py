from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from souk_platform.api import PageArgs, current_principal, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.core.errors import NotFound
from souk_platform.db import db
from souk_platform.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from souk_platform.ledger.schemas import AccountQuerySchema, AccountSchema, EntrySchema

blp = Blueprint("ledger", __name__, url_prefix="/ledger", description="Ledger accounts and their entries")


@blp.route("/accounts")
class AccountList(MethodView):
    @requires("read_ledger")
    @blp.arguments(AccountQuerySchema, location="query")
    @blp.response(200, page_schema(AccountSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The shop's ledger accounts (points, stored value, takings)"""
        stmt = sa.select(LedgerAccount).where(LedgerAccount.shop_id == current_principal().shop_id)
        owner_id, kind = args.pop("owner_id"), args.pop("kind")
        if owner_id:
            stmt = stmt.where(LedgerAccount.owner_id == owner_id)
        if kind:
            stmt = stmt.where(LedgerAccount.kind == kind)
        return paginated(page_of(db.session, stmt, LedgerAccount.id, **args))


@blp.route("/accounts/<account_id>/entries")
class EntryList(MethodView):
    @requires("read_ledger")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(EntrySchema))
    def get(self, args: dict[str, Any], account_id: str) -> Any:
        """Entries of one account, newest first"""
        shop_id = current_principal().shop_id
        if (
            db.session.scalar(
                sa.select(LedgerAccount.id).where(LedgerAccount.id == account_id, LedgerAccount.shop_id == shop_id)
            )
            is None
        ):
            raise NotFound(f"No ledger account {account_id} in this shop.")
        stmt = sa.select(LedgerEntry).where(LedgerEntry.account_id == account_id)
        page = page_of(db.session, stmt, LedgerEntry.id, **args)
        transfers = {
            t.id: t
            for t in db.session.scalars(
                sa.select(LedgerTransfer).where(LedgerTransfer.id.in_({e.transfer_id for e in page.items}))
            )
        }
        return paginated(
            page,
            view=lambda e: {
                "id": e.id,
                "transfer_id": e.transfer_id,
                "amount": e.amount,
                "unit": e.unit,
                "created_at": e.created_at,
                "kind": transfers[e.transfer_id].kind,
                "reference": transfers[e.transfer_id].reference,
            },
        )
