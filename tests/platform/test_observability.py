"""Request ids and Prometheus metrics, as an operator sees them."""

from __future__ import annotations

from factories import ShopFactory, token_for


def test_every_response_carries_a_request_id_and_errors_quote_it(client):
    r = client.get("/api/v1/shop")
    request_id = r.headers["X-Request-Id"]
    assert len(request_id) == 32
    assert r.get_json()["instance"].endswith(request_id)
    assert client.get("/", headers={"X-Request-Id": "abc123"}).headers["X-Request-Id"] == "abc123"


def test_metrics_count_requests_by_route_and_status(client):
    shop = ShopFactory()
    headers = token_for(shop)
    for _ in range(3):
        client.get("/api/v1/shop", headers=headers)
    client.get("/api/v1/shop")
    text = client.get("/metrics").get_data(as_text=True)
    ok = 'souk_http_requests_total{method="GET",route="/api/v1/shop",status="200"}'
    denied = 'souk_http_requests_total{method="GET",route="/api/v1/shop",status="401"}'
    counts = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line.startswith("souk_")}
    assert counts[ok] >= 3 and counts[denied] >= 1
    assert "souk_http_request_seconds_bucket" in text
    assert 'souk_job_queue_depth{queue="souk"}' in text
