from __future__ import annotations

from typing import Any

from flask.views import MethodView

from souk_platform.api import current_principal, page_of, page_schema, paginated, requires
from souk_platform.api.parsing import Blueprint
from souk_platform.db import db
from souk_platform.events.models import OutboxEvent
from souk_platform.events.schemas import EventQuerySchema, EventSchema
from souk_platform.events.services import list_events_stmt

blp = Blueprint("events", __name__, url_prefix="/events", description="The shop's event log (the outbox)")


@blp.route("")
class EventList(MethodView):
    @requires("read_events")
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, page_schema(EventSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Events in this shop, newest first"""
        stmt = list_events_stmt(current_principal().shop_id, type=args.pop("type"), subject_id=args.pop("subject_id"))
        return paginated(page_of(db.session, stmt, OutboxEvent.id, **args))
