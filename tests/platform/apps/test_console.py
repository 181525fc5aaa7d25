"""The developer console, as a developer uses it: sign up, register apps, publish versions, rotate secrets."""

from __future__ import annotations

import re

import sqlalchemy as sa

from factories import ShopFactory
from souk_platform.apps import services
from souk_platform.apps.models import App, AppVersion, Installation
from souk_platform.auth.models import User
from souk_platform.auth.services import create_user

GOOD = """\
name: Shelf Helper
redirect_uris:
  - http://127.0.0.1:8765/callback
scopes:
  - read_products
"""

BAD = """\
name: Shelf Helper
redirect_uris:
  - http://shelf.example.com/callback
scopes:
  - read_products
  - read_shelves
"""


def sign_up(client, email="dev@example.com", name="Dana Dev", password="a long password"):
    return client.post("/developers/signup", data={"name": name, "email": email, "password": password})


def secret_in(page: str) -> str:
    return re.search(r'<code id="client-secret">(souk_cs_[\w-]+)</code>', page).group(1)


def count(session, model, *where) -> int:
    """Rows of ``model`` matching ``where``: other test modules may commit rows to the same database."""
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def apps_of(email="dev@example.com"):
    return sa.select(App).join(User, User.id == App.developer_id).where(User.email == email)


def versions_of(email="dev@example.com"):
    return AppVersion.app_id.in_(apps_of(email).with_only_columns(App.id))


def test_signup_creates_a_developer_and_logs_in(client, session):
    assert "Create a developer account" in client.get("/developers/signup").get_data(as_text=True)
    r = sign_up(client)
    assert r.status_code == 302 and r.headers["Location"] == "/developer/apps"
    user = session.scalar(sa.select(User).where(User.email == "dev@example.com"))
    assert user.is_developer and user.password_hash != "a long password"
    page = client.get("/developer/apps").get_data(as_text=True)
    assert "No apps yet." in page
    assert "/developer/apps" in client.get("/").get_data(as_text=True)  # home links the console
    client.post("/logout")
    assert client.post("/login", data={"email": "dev@example.com", "password": "a long password"}).status_code == 302


def test_signup_errors_are_shown_and_create_nothing(client, session):
    page = sign_up(client, password="short").get_data(as_text=True)
    assert "Use at least 10 characters." in page
    page = sign_up(client, email="not-an-email").get_data(as_text=True)
    assert "Invalid email address." in page
    create_user(session, email="taken@example.com", name="T", password="whatever long")
    session.commit()
    page = sign_up(client, email="taken@example.com").get_data(as_text=True)
    assert "already exists" in page
    assert count(session, User, User.email.in_(["dev@example.com", "not-an-email", "taken@example.com"])) == 1
    assert client.get("/developer/apps").status_code == 302  # still not logged in


def test_the_console_is_for_developers_only(client, session):
    assert client.get("/developer/apps").headers["Location"].startswith("/login")
    create_user(session, email="merchant@example.com", name="Mo", password="merchant password")
    session.commit()
    client.post("/login", data={"email": "merchant@example.com", "password": "merchant password"})
    r = client.get("/developer/apps")
    assert r.status_code == 403 and "for developer accounts" in r.get_data(as_text=True)


def test_create_app_with_errors_then_success_shows_the_secret_once(client, session):
    sign_up(client)
    assert "name: My app" in client.get("/developer/apps/new").get_data(as_text=True)  # an example to start from

    page = client.post("/developer/apps/new", data={"manifest": BAD}).get_data(as_text=True)
    rows = re.findall(r'<tr class="manifest-error"><td>(\d+)</td><td>(\d+)</td><td><code>([^<]*)</code>', page)
    assert rows == [("3", "5", "redirect_uris.0"), ("6", "5", "scopes.1")]
    assert "only https is allowed" in page and "is not a known scope" in page
    assert "read_shelves" in page  # the submitted text is kept for fixing
    assert count(session, App, App.id.in_(apps_of().with_only_columns(App.id))) == 0

    page = client.post("/developer/apps/new", data={"manifest": ""}).get_data(as_text=True)
    assert (
        "Paste the app's manifest." in page
        and count(session, App, App.id.in_(apps_of().with_only_columns(App.id))) == 0
    )

    r = client.post("/developer/apps/new", data={"manifest": GOOD})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "App registered." in page
    secret = secret_in(page)
    app = session.scalar(apps_of())
    assert app.name == "Shelf Helper" and app.client_id in page
    assert services.verify_client_secret(app, secret, app.created_at)

    again = client.get(f"/developer/apps/{app.id}").get_data(as_text=True)
    assert secret not in again and secret[-4:] in again
    listing = client.get("/developer/apps").get_data(as_text=True)
    assert "Shelf Helper" in listing and app.client_id in listing and "v1" in listing


def test_publish_versions_and_rotate_secret_from_the_app_page(client, session):
    sign_up(client)
    first_secret = secret_in(client.post("/developer/apps/new", data={"manifest": GOOD}).get_data(as_text=True))
    app = session.scalar(apps_of())

    # The same manifest publishes nothing.
    r = client.post(f"/developer/apps/{app.id}/versions", data={"manifest": GOOD}, follow_redirects=True)
    assert "no new version was published" in r.get_data(as_text=True)
    # A bad one shows errors with lines and publishes nothing.
    page = client.post(f"/developer/apps/{app.id}/versions", data={"manifest": BAD}).get_data(as_text=True)
    assert "manifest-error" in page and count(session, AppVersion, versions_of()) == 1
    # Changing the client type is refused.
    public = GOOD + "client_type: public\n"
    page = client.post(f"/developer/apps/{app.id}/versions", data={"manifest": public}).get_data(as_text=True)
    assert "client type cannot change" in page and count(session, AppVersion, versions_of()) == 1
    # A real change publishes version 2.
    changed = GOOD + "  - write_products\n"
    r = client.post(f"/developer/apps/{app.id}/versions", data={"manifest": changed}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Version 2 published." in page and "read_products, write_products" in page

    page = client.post(f"/developer/apps/{app.id}/rotate-secret").get_data(as_text=True)
    new_secret = secret_in(page)
    assert new_secret != first_secret and "keeps working for 24 hours" in page
    app = session.get(App, app.id)
    assert services.verify_client_secret(app, new_secret, app.previous_secret_expires_at)
    assert client.get(f"/developer/apps/{app.id}").get_data(as_text=True).count(new_secret) == 0


def test_install_count_is_shown(client, session):
    sign_up(client)
    client.post("/developer/apps/new", data={"manifest": GOOD})
    app = session.scalar(apps_of())
    version = services.current_version(app)
    for shop in (ShopFactory(), ShopFactory()):
        session.add(Installation(app_id=app.id, shop_id=shop.id, app_version_id=version.id, granted_scopes=[]))
    session.commit()
    assert '<td id="install-count">2</td>' in client.get(f"/developer/apps/{app.id}").get_data(as_text=True)


def test_another_developer_gets_404_on_every_app_page(client, session):
    sign_up(client)
    client.post("/developer/apps/new", data={"manifest": GOOD})
    app = session.scalar(apps_of())
    client.post("/logout")
    sign_up(client, email="other@example.com", name="Otto")
    assert app.name not in client.get("/developer/apps").get_data(as_text=True)
    assert client.get(f"/developer/apps/{app.id}").status_code == 404
    assert (
        client.post(f"/developer/apps/{app.id}/versions", data={"manifest": GOOD + "  - write_products\n"}).status_code
        == 404
    )
    assert client.post(f"/developer/apps/{app.id}/rotate-secret").status_code == 404
    assert client.get("/developer/apps/app_does_not_exist").status_code == 404
    assert count(session, AppVersion, versions_of()) == 1 and session.get(App, app.id).previous_secret_hash is None


def test_console_speaks_chinese(client, session):
    sign_up(client)
    page = client.get("/developer/apps", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "开发者控制台" in page


def test_webhook_secret_is_issued_shown_and_rotated_in_the_console(client, session):
    sign_up(client)
    client.post("/developer/apps/new", data={"manifest": GOOD})
    app_id = session.scalar(apps_of()).id
    page = client.get(f"/developer/apps/{app_id}").get_data(as_text=True)
    assert "Not issued yet" in page and "Issue webhook secret" in page

    issued = client.post(f"/developer/apps/{app_id}/rotate-webhook-secret", follow_redirects=True)
    page = issued.get_data(as_text=True)
    first = re.search(r'<code id="webhook-secret-value">(whsec_[\w+/=]+)</code>', page).group(1)
    assert "Webhook secret issued." in page and "Rotate webhook secret" in page

    rotated = client.post(f"/developer/apps/{app_id}/rotate-webhook-secret", follow_redirects=True)
    page = rotated.get_data(as_text=True)
    second = re.search(r'<code id="webhook-secret-value">(whsec_[\w+/=]+)</code>', page).group(1)
    assert second != first and "keeps signing beside it for 24 hours" in page
    session.expire_all()
    sealed = session.get(App, app_id).webhook_secret_sealed
    assert session.get(App, app_id).previous_webhook_secret_expires_at is not None

    client.post("/logout")
    sign_up(client, email="other@example.com")
    assert client.post(f"/developer/apps/{app_id}/rotate-webhook-secret").status_code == 404
    session.expire_all()
    assert session.get(App, app_id).webhook_secret_sealed == sealed  # unchanged by the stranger
