"""Login, language choice and the shop owner's access-token page, as a person uses them."""

from __future__ import annotations

import re

import pytest

from factories import ShopFactory
from souk_platform.auth.services import create_user
from souk_platform.shops.services import add_staff


@pytest.fixture
def owner_shop(session):
    owner = create_user(session, email="owner@example.com", name="Olive Owner", password="correct horse")
    shop = ShopFactory(name="Tea Corner", owner=owner)
    session.commit()
    return owner, shop


def _login(client, email="owner@example.com", password="correct horse"):
    return client.post("/login", data={"email": email, "password": password})


def test_wrong_password_says_so_and_does_not_log_in(client, owner_shop):
    r = _login(client, password="wrong")
    assert r.status_code == 200
    assert "The email or password is not right." in r.get_data(as_text=True)
    assert "Tea Corner" not in client.get("/").get_data(as_text=True)


def test_owner_logs_in_and_sees_their_shop(client, owner_shop):
    r = _login(client)
    assert r.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Tea Corner" in page and "Olive Owner" in page


def test_login_never_redirects_off_site(client, owner_shop):
    r = client.post("/login?next=//evil.example/x", data={"email": "owner@example.com", "password": "correct horse"})
    assert r.headers["Location"] == "/"


def test_owner_creates_a_token_shown_once_that_works(client, owner_shop):
    _, shop = owner_shop
    _login(client)
    r = client.post(f"/shops/{shop.id}/tokens", data={"name": "Shelf script", "scopes": ["read_shop"]})
    page = r.get_data(as_text=True)
    token = re.search(r'<code id="new-token">(souk_at_[\w-]+)</code>', page).group(1)
    assert "Shelf script" in page
    api = client.get("/api/v1/shop", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.get_json()["name"] == "Tea Corner"
    again = client.get(f"/shops/{shop.id}/tokens").get_data(as_text=True)
    assert token not in again and token[-4:] in again  # listed by its last characters only


def test_token_form_needs_a_scope(client, owner_shop):
    _, shop = owner_shop
    _login(client)
    page = client.post(f"/shops/{shop.id}/tokens", data={"name": "No scopes"}).get_data(as_text=True)
    assert "Choose at least one scope." in page and "new-token" not in page


def test_a_token_takes_the_scopes_ticked_and_no_box_is_forced(client, owner_shop):
    _, shop = owner_shop
    _login(client)
    form = client.get(f"/shops/{shop.id}/tokens").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', form)
    assert boxes and not [box for box in boxes if "required" in box]  # a browser would demand every box
    r = client.post(f"/shops/{shop.id}/tokens", data={"name": "Two scopes", "scopes": ["read_orders", "read_shop"]})
    token = re.search(r'<code id="new-token">(souk_at_[\w-]+)</code>', r.get_data(as_text=True)).group(1)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/shop", headers=auth).status_code == 200
    assert client.get("/api/v1/customers", headers=auth).status_code == 403


def test_staff_cannot_manage_tokens_and_strangers_get_404(client, session, owner_shop):
    _, shop = owner_shop
    staff = create_user(session, email="staff@example.com", name="Sam", password="pw-for-sam")
    add_staff(session, shop_id=shop.id, user=staff, role="staff")
    create_user(session, email="x@example.com", name="Xu", password="pw-for-xu")
    session.commit()
    _login(client, "staff@example.com", "pw-for-sam")
    assert client.get(f"/shops/{shop.id}/tokens").status_code == 403
    client.post("/logout")
    _login(client, "x@example.com", "pw-for-xu")
    assert client.get(f"/shops/{shop.id}/tokens").status_code == 404


def test_pages_follow_accept_language_and_the_switcher(client, owner_shop):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    client.get("/language/zh_CN")
    assert "登录" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert client.get("/language/xx").status_code == 404


def test_forms_reject_posts_without_a_csrf_token(app, client, owner_shop):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = _login(client)
        assert r.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_language_chosen_before_logging_in_stays_after(client, session, owner_shop):
    owner, _ = owner_shop
    owner.locale = "en"  # what the account remembers loses to what the person just chose
    session.commit()
    client.get("/language/zh_CN")
    _login(client)
    page = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "您的店铺" in page and "Tea Corner" in page


def test_without_a_choice_the_account_language_applies_at_login(client, session, owner_shop):
    owner, _ = owner_shop
    owner.locale = "zh_CN"
    session.commit()
    _login(client)
    assert "您的店铺" in client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_pages_link_an_icon_that_is_served(client, owner_shop):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon"[^>]*href="([^"]+)"', page).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert client.get("/favicon.ico").headers["Location"].endswith(href)  # for clients that guess the path
