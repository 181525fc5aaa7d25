"""Webhook deliveries and the jobs that send them, as counted on ``/metrics``."""

from __future__ import annotations

from scrape import sample

from factories import ShopFactory, emit_order_paid, token_for


def test_attempts_outcomes_latency_backlog_and_job_runs_are_on_metrics(
    client, session, receiver, loopback, now_clock, drain
):
    shop = ShopFactory()
    headers = token_for(shop, ["write_webhooks"])
    created = client.post(
        "/api/v1/webhook-subscriptions", json={"url": receiver.url, "topics": ["order.*"]}, headers=headers
    )
    assert created.status_code == 201
    receiver.script = [(503, {})]  # the first request fails; its delivery waits 5 s for a retry
    emit_order_paid(session, shop.id, "ord_metrics_1")
    emit_order_paid(session, shop.id, "ord_metrics_2")
    session.commit()
    before = client.get("/metrics").get_data(as_text=True)

    drain()

    after = client.get("/metrics").get_data(as_text=True)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("souk_webhook_attempts_total", outcome="succeeded") == 1
    assert delta("souk_webhook_attempts_total", outcome="http_5xx") == 1
    assert delta("souk_webhook_attempt_seconds_count") == 2
    assert sample(after, "souk_webhook_backlog", state="pending") == 1  # the one waiting for its retry
    assert sample(after, "souk_webhook_backlog", state="due") == 0
    deliver = "souk_platform.webhooks.tasks.deliver_due"
    assert delta("souk_job_runs_total", job=deliver) >= 1
    assert delta("souk_job_lag_seconds_count", job=deliver) >= 1
    assert delta("souk_job_failures_total", job=deliver) == 0
