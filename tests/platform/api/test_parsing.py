"""How every JSON body is read (souk_platform.api.parsing): depth, Unicode, numbers, absent bodies."""

from __future__ import annotations

import datetime as dt

import flask_smorest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.api.parsing import MAX_JSON_DEPTH, Blueprint
from souk_platform.customers.models import Customer

LONE_SURROGATE = "X\ud800Y"


def _customer(client, headers) -> str:
    r = client.post("/api/v1/customers", headers=headers, json={"name": "Li Lei"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def test_a_deeply_nested_body_is_a_400_naming_the_limit_on_any_endpoint(client, session):
    shop = ShopFactory(name="Before")
    shop_id = shop.id
    headers = token_for(shop)
    deep = "[" * 1000 + "]" * 1000  # ~2 KB: the standard parser recursed until Python gave up (a 500)
    just_too_deep = '{"name": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
    for method, url in [("patch", "/api/v1/shop"), ("post", "/api/v1/customers"), ("post", "/api/v1/carts")]:
        for body in (deep, just_too_deep):
            r = getattr(client, method)(url, headers=headers, data=body, content_type="application/json")
            assert r.status_code == 400, (url, r.get_json())
            assert r.content_type == "application/problem+json"
            problem = r.get_json()
            assert problem["type"].endswith("/json-too-deep") and problem["max_depth"] == MAX_JSON_DEPTH
            assert str(MAX_JSON_DEPTH) in problem["detail"]
    # Depth within the limit is read as usual (and then judged by the schema).
    r = client.patch("/api/v1/shop", headers=headers, json={"settings": {"cashback_bp": [[[1]]]}})
    assert r.status_code == 422 and "settings.cashback_bp" in r.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.shop_id == shop_id)) == 0


def test_a_lone_surrogate_is_a_422_naming_the_field_wherever_it_is_sent(client, session, app):
    shop = ShopFactory(name="Before")
    headers = token_for(shop)
    customer_id = _customer(client, headers)
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    requirement = {
        "title": "Points reminder",
        "description": "Remind members before their points expire.",
        "category": "loyalty",
        "budget_amount": 300_000,
        "deadline": deadline,
        "acceptance_criteria": "Reminders go out on time.",
    }
    cases = [
        ("patch", "/api/v1/shop", {"name": LONE_SURROGATE}, "name"),
        ("post", "/api/v1/customers", {"name": LONE_SURROGATE}, "name"),
        ("post", "/api/v1/tags", {"name": LONE_SURROGATE}, "name"),
        ("post", "/api/v1/coupons", {"name": LONE_SURROGATE, "code": "SAVE5", "kind": "fixed", "value": 500}, "name"),
        (
            "post",
            f"/api/v1/customers/{customer_id}/points/adjustments",
            {"points": 10, "reason": LONE_SURROGATE},
            "reason",
        ),
        (
            "post",
            f"/api/v1/customers/{customer_id}/stored-value/top-ups",
            {"amount": 100, "reference": LONE_SURROGATE},
            "reference",
        ),
        (
            "post",
            "/api/v1/segments",
            {
                "name": "Big spenders",
                "condition": {"op": "and", "conditions": [{"field": "level", "cmp": "gte", "value": 2}]},
                "description": LONE_SURROGATE,
            },
            "description",
        ),
        ("post", "/api/v1/requirements", {**requirement, "title": LONE_SURROGATE}, "title"),
        ("post", "/api/v1/products", {"title": LONE_SURROGATE}, "title"),
        # Nested fields and keys are named by their path.
        ("post", "/api/v1/carts", {"lines": [{"sku_id": LONE_SURROGATE, "quantity": 1}]}, "lines.0.sku_id"),
        ("post", "/api/v1/customers", {"name": "ok", "\udc00": 1}, "\\udc00"),
    ]
    for method, url, body, field in cases:
        r = getattr(client, method)(url, headers=headers, json=body)
        assert r.status_code == 422, (url, r.status_code, r.get_data(as_text=True))
        assert r.content_type == "application/problem+json"
        assert field in r.get_json()["errors"], (url, r.get_json())
    assert client.get("/api/v1/shop", headers=headers).get_json()["name"] == "Before"
    names = session.scalars(sa.select(Customer.name).where(Customer.shop_id == shop.id)).all()
    assert names == ["Li Lei"]
    # A proper surrogate pair is ordinary text.
    r = client.post(
        "/api/v1/customers", headers=headers, data='{"name": "Tea \\ud83c\\udf75"}', content_type="application/json"
    )
    assert r.status_code == 201 and r.get_json()["name"] == "Tea \U0001f375"


def test_an_integer_field_accepts_a_number_with_a_zero_fraction(client, session):
    """JSON Schema counts 429.0 as an integer; the document says ``integer``, so the server agrees."""
    shop = ShopFactory()
    headers = token_for(shop)
    customer_id = _customer(client, headers)
    url = f"/api/v1/customers/{customer_id}/stored-value/top-ups"
    r = client.post(url, headers=headers, data='{"amount": 429.0}', content_type="application/json")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["balance"] == 429
    r = client.post(url, headers=headers, data='{"amount": 429.5}', content_type="application/json")
    assert r.status_code == 422 and "amount" in r.get_json()["errors"]


def test_a_body_is_required_exactly_when_the_document_says_so(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    shop = ShopFactory()
    headers = token_for(shop)
    # Every field optional: the body may be left out, and the document says so.
    assert spec["paths"]["/api/v1/carts"]["post"]["requestBody"]["required"] is False
    assert spec["paths"]["/api/v1/shop"]["patch"]["requestBody"]["required"] is False
    assert client.post("/api/v1/carts", headers=headers).status_code == 201
    assert client.patch("/api/v1/shop", headers=headers).status_code == 200
    # A required field: the body is required, and leaving it out is a 422 problem.
    assert spec["paths"]["/api/v1/customers"]["post"]["requestBody"]["required"] is True
    r = client.post("/api/v1/customers", headers=headers)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert "name" in r.get_json()["errors"]


def test_every_api_blueprint_reads_bodies_the_one_way(app):
    api_blueprints = [b for b in app.blueprints.values() if isinstance(b, flask_smorest.Blueprint)]
    assert len(api_blueprints) > 20
    assert all(isinstance(b, Blueprint) for b in api_blueprints), [
        b.name for b in api_blueprints if not isinstance(b, Blueprint)
    ]


def test_error_responses_are_documented_as_problem_json(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    shared = spec["components"]["responses"]
    undocumented = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status != "default" and int(status) < 400:
                    continue
                if "$ref" in response:
                    response = shared[response["$ref"].rsplit("/", 1)[1]]
                if list(response.get("content", {})) != ["application/problem+json"]:
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []
    key = next(
        p
        for p in spec["paths"]["/api/v1/customers/{customer_id}/stored-value/top-ups"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"}


def test_an_unknown_query_parameter_is_a_422_naming_it(client):
    """Like an unknown body field: a typo such as ``limt`` must not quietly return the default page."""
    headers = token_for(ShopFactory())
    r = client.get("/api/v1/customers?limt=5", headers=headers)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert r.get_json()["errors"] == {"query.limt": ["Unknown field."]}
    assert client.get("/api/v1/customers?limit=5", headers=headers).status_code == 200


def test_a_schema_named_by_its_class_is_made_once_and_each_request_still_gets_its_own_result(client, session):
    from souk_platform.api.parsing import Blueprint as SoukBlueprint
    from souk_platform.catalog.schemas import ProductQuerySchema

    parser = SoukBlueprint.ARGUMENTS_PARSER
    headers = token_for(ShopFactory())
    first = client.get("/api/v1/products?status=draft&limit=1", headers=headers)
    schema = parser._schemas[ProductQuerySchema]
    second = client.get("/api/v1/products?limit=2", headers=headers)
    typo = client.get("/api/v1/products?limt=2", headers=headers)
    assert (first.status_code, second.status_code, typo.status_code) == (200, 200, 422)
    assert parser._schemas[ProductQuerySchema] is schema  # the same instance served all three
    assert "query.limt" in typo.get_json()["errors"]  # the one instance still judges each request afresh


def test_flask_keeps_its_sync_check_for_functions_only(app):
    def hook() -> None:
        return None

    class Holder:
        def method(self) -> None:
            return None

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    remembered = app.ensure_sync.__closure__  # the answers dict lives in the wrapper's closure
    sizes = [len(cell.cell_contents) for cell in remembered if isinstance(cell.cell_contents, dict)]
    for _ in range(50):  # a MethodView's bound method is new on every request: nothing is kept for it
        bound = Holder().method
        assert app.ensure_sync(bound) == bound
    assert [len(cell.cell_contents) for cell in remembered if isinstance(cell.cell_contents, dict)] == sizes
