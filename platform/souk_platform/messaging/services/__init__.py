"""The messaging services (docs/architecture.md §5.11): channels, templates, and sending messages.

``send_message`` is the one entry point the API, the merchant's pages and the journey engine call.
"""

from souk_platform.messaging.services.channels import (
    channel_views,
    channels_stmt,
    create_channel,
    ensure_built_in_channels,
    get_channel,
    retire_app_channels,
    sync_app_channels,
    update_channel,
)
from souk_platform.messaging.services.messages import (
    OutgoingEmail,
    claim_email,
    get_message,
    inbox_stmt,
    mark_read,
    message_view,
    messages_stmt,
    quiet_hours_end,
    quiet_window_end,
    record_email,
    report_status,
    send_due_messages,
    send_message,
    transmit,
)
from souk_platform.messaging.services.reports import journey_message_counts, message_report, report_period
from souk_platform.messaging.services.templates import (
    create_template,
    delete_template,
    get_template,
    preview_template,
    template_view,
    templates_stmt,
    update_template,
)

__all__ = [
    "OutgoingEmail",
    "channel_views",
    "channels_stmt",
    "claim_email",
    "create_channel",
    "create_template",
    "delete_template",
    "ensure_built_in_channels",
    "get_channel",
    "get_message",
    "get_template",
    "inbox_stmt",
    "journey_message_counts",
    "mark_read",
    "message_report",
    "message_view",
    "messages_stmt",
    "preview_template",
    "quiet_hours_end",
    "quiet_window_end",
    "record_email",
    "report_period",
    "report_status",
    "retire_app_channels",
    "send_due_messages",
    "send_message",
    "sync_app_channels",
    "template_view",
    "templates_stmt",
    "transmit",
    "update_channel",
    "update_template",
]
