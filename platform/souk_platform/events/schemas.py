from __future__ import annotations

import marshmallow as ma

from souk_platform.api.pagination import PageArgs


class EventSchema(ma.Schema):
    id = ma.fields.String()
    type = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    payload = ma.fields.Dict()
    created_at = ma.fields.DateTime()


class EventQuerySchema(PageArgs):
    type = ma.fields.String(load_default=None, metadata={"description": "Only events of this type"})
    subject_id = ma.fields.String(load_default=None, metadata={"description": "Only events about this object"})
