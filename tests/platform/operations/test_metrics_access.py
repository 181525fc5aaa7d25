"""Who may read ``/metrics``: this machine only by default, or the bearer of ``SOUK_METRICS_TOKEN``."""

from __future__ import annotations

import pytest

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}


def test_a_scrape_from_this_machine_is_served(client):
    r = client.get("/metrics")
    assert r.status_code == 200
    assert "souk_http_requests_total" in r.get_data(as_text=True)


def test_a_scrape_from_elsewhere_is_refused_with_a_problem(client):
    r = client.get("/metrics", environ_base=ELSEWHERE)
    assert r.status_code == 403
    assert r.mimetype == "application/problem+json"
    assert "SOUK_METRICS_TOKEN" in r.get_json()["detail"]
    assert "souk_" not in r.get_data(as_text=True)


def test_a_scrape_through_a_proxy_on_this_machine_is_refused(client):
    r = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 403


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "SOUK_METRICS_TOKEN", "s3cret-metrics-token")
    return "s3cret-metrics-token"


def test_with_a_token_only_its_bearer_is_served_from_anywhere(client, metrics_token):
    assert client.get("/metrics").status_code == 401  # not even this machine without it
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"}, environ_base=ELSEWHERE)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}, environ_base=ELSEWHERE)
    assert right.status_code == 200
    assert "souk_http_requests_total" in right.get_data(as_text=True)


def test_health_endpoints_stay_open_from_anywhere(client):
    assert client.get("/healthz", environ_base=ELSEWHERE).status_code == 200
    assert client.get("/readyz", environ_base=ELSEWHERE).status_code == 200
