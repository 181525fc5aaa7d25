"""Webhook delivery from the outbox (docs/architecture.md §8).

Protocol pieces are plain Python: ``signing`` (Standard Webhooks), ``schedule`` (retry timing),
``ssrf`` (the destination guard and pinning transport), ``secret_box`` (secrets at rest).
``services`` holds the rules (subscriptions, dispatch, attempts, resend/recover), ``tasks`` the jobs (the
delivery run sends many deliveries at once over kept-alive connections), ``api`` and ``views`` the API and
the console pages.

Delivery is at-least-once and unordered: receivers deduplicate on ``webhook-id`` and use the
``version`` inside ``data`` to drop stale updates.
"""
