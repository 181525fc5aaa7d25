"""The back office's customer profile: birthday, gender, source channel and external identities on the 360
page, the profile editor (the version it showed: stale is refused, nothing written), the list's filters."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop
from souk_platform.customers.models import Customer, CustomerIdentity
from souk_platform.customers.services import add_identity, create_customer, update_customer


def _fang(session, shop, **profile):
    customer = create_customer(session, shop_id=shop.id, name="王芳", phone="13800138001", **profile)
    session.commit()
    return customer


def _profile(customer: Customer, **overrides: str) -> dict[str, str]:
    form = {
        "version": str(customer.version),
        "name": customer.name,
        "phone": customer.phone or "",
        "email": customer.email or "",
        "birthday": customer.birthday.isoformat() if customer.birthday else "",
        "gender": customer.gender,
        "source_channel": customer.source_channel or "",
    }
    return form | overrides


def _fresh(session, customer_id):
    session.expire_all()
    return session.get(Customer, customer_id)


def test_the_360_page_shows_the_profile_and_the_editor_saves_it(client, session):
    shop = ShopFactory()
    fang = _fang(session, shop, gender="female", source_channel="store", birthday=dt.date(1990, 5, 20))
    log_in_to_shop(client, shop.id, role="staff")
    page = client.get(f"/shops/{shop.id}/customers/{fang.id}").get_data(as_text=True)
    assert '<td id="customer-birthday">1990-05-20</td>' in page
    assert '<td id="customer-gender">Female</td>' in page and '<td id="customer-source">Physical store</td>' in page

    edit = f"/shops/{shop.id}/customers/{fang.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="1990-05-20"' in page and f'name="version" type="hidden" value="{fang.version}"' in page
    form = _profile(
        fang, birthday="1991-06-01", gender="unknown", source_channel="mini_program", email="Fang@Example.com"
    )
    r = client.post(edit, data=form, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Profile saved." in page and '<td id="customer-birthday">1991-06-01</td>' in page
    saved = _fresh(session, fang.id)
    assert (saved.birthday, saved.gender, saved.source_channel, saved.email) == (
        dt.date(1991, 6, 1),
        "unknown",
        "mini_program",
        "fang@example.com",
    )
    r = client.post(edit, data=_profile(saved, birthday="", source_channel=""), follow_redirects=True)
    assert "Profile saved." in r.get_data(as_text=True)
    assert (_fresh(session, fang.id).birthday, _fresh(session, fang.id).source_channel) == (None, None)


def test_bad_input_and_a_stale_form_are_refused_and_nothing_is_written(client, session, clock):
    shop = ShopFactory()
    fang = _fang(session, shop, birthday=dt.date(1990, 5, 20))
    create_customer(session, shop_id=shop.id, name="李娜", phone="13800138002")
    session.commit()
    log_in_to_shop(client, shop.id)
    edit = f"/shops/{shop.id}/customers/{fang.id}/edit"
    tomorrow = (clock.now() + dt.timedelta(days=2)).date().isoformat()
    cases = [
        ({"birthday": tomorrow}, "The birthday cannot be in the future."),
        ({"birthday": "1899-12-31"}, "The birthday cannot be before 1900-01-01."),
        ({"birthday": "20-05-1990"}, "Not a valid date value."),
        ({"gender": "other"}, "Not a valid choice."),
        ({"name": ""}, "This field is required."),
        ({"phone": "13800138002"}, "Another customer already has this phone or email."),
        ({"version": str(fang.version - 1), "name": "王小芳"}, "Fetch it again and retry."),
        ({"version": "", "name": "王小芳"}, "The form is out of date: reload the page and try again."),
    ]
    for overrides, reason in cases:
        r = client.post(edit, data=_profile(fang, **overrides))
        assert r.status_code in (400, 422), overrides
        if r.status_code == 422:
            assert reason in r.get_data(as_text=True), overrides
        saved = _fresh(session, fang.id)
        assert (saved.name, saved.phone, saved.birthday, saved.version) == (
            "王芳",
            "13800138001",
            dt.date(1990, 5, 20),
            fang.version,
        ), overrides

    assert client.post(edit, data=_profile(fang, name="王\x00芳")).status_code == 400
    identities = f"/shops/{shop.id}/customers/{fang.id}/identities"
    assert client.post(identities, data={"provider": "alipay", "external_id": "a\x00"}).status_code == 400
    assert _fresh(session, fang.id).name == "王芳"

    # Someone else saved meanwhile: the form still holds the old version, so it changes nothing.
    form = _profile(fang, name="王小芳")
    update_customer(session, shop_id=shop.id, customer_id=fang.id, changes={"gender": "female"}, expected_version=None)
    session.commit()
    r = client.post(edit, data=form)
    assert r.status_code == 422 and "Fetch it again and retry." in r.get_data(as_text=True)
    assert _fresh(session, fang.id).name == "王芳"


def test_identities_are_added_and_removed_and_a_taken_one_is_refused(client, session):
    shop = ShopFactory()
    fang = _fang(session, shop)
    na = create_customer(session, shop_id=shop.id, name="李娜", phone="13800138002")
    add_identity(session, shop_id=shop.id, customer_id=na.id, provider="alipay", external_id="2088-NA")
    session.commit()
    log_in_to_shop(client, shop.id)
    url = f"/shops/{shop.id}/customers/{fang.id}/identities"

    r = client.post(url, data={"provider": "wechat_openid:wx123", "external_id": "o-FANG"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Identity added." in page and "o-FANG" in page and "WeChat user in an official account" in page
    r = client.post(url, data={"provider": "wechat_openid:wx123", "external_id": "o-FANG"}, follow_redirects=True)
    assert "The customer already has this identity." in r.get_data(as_text=True)
    r = client.post(url, data={"provider": "alipay", "external_id": "2088-NA"}, follow_redirects=True)
    assert "Another customer in this shop already has this identity." in r.get_data(as_text=True)
    r = client.post(url, data={"provider": "qq", "external_id": "1"}, follow_redirects=True)
    assert "Use wechat_openid, wechat_openid:&lt;appid&gt;" in r.get_data(as_text=True)
    r = client.post(url, data={"provider": "alipay", "external_id": ""}, follow_redirects=True)
    assert "Give the system and the id it knows the customer by." in r.get_data(as_text=True)

    session.expire_all()
    (mine,) = session.scalars(sa.select(CustomerIdentity).where(CustomerIdentity.customer_id == fang.id))
    assert (mine.provider, mine.external_id) == ("wechat_openid:wx123", "o-FANG")
    r = client.post(f"{url}/{mine.id}/remove", follow_redirects=True)
    assert "Identity removed." in r.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(sa.select(CustomerIdentity).where(CustomerIdentity.customer_id == fang.id)).all() == []


def test_another_shops_customer_and_identity_are_not_found(client, session):
    shop, other = ShopFactory(), ShopFactory()
    theirs = create_customer(session, shop_id=other.id, name="赵敏", phone="13900000009")
    identity, _new = add_identity(
        session, shop_id=other.id, customer_id=theirs.id, provider="douyin", external_id="dy-1"
    )
    fang = _fang(session, shop)
    log_in_to_shop(client, shop.id)
    assert client.get(f"/shops/{shop.id}/customers/{theirs.id}/edit").status_code == 404
    assert (
        client.post(f"/shops/{shop.id}/customers/{theirs.id}/edit", data=_profile(theirs, name="x")).status_code == 404
    )
    assert client.get(f"/shops/{other.id}/customers/{theirs.id}/edit").status_code == 404
    add = {"provider": "alipay", "external_id": "x"}
    assert client.post(f"/shops/{shop.id}/customers/{theirs.id}/identities", data=add).status_code == 404
    assert client.post(f"/shops/{shop.id}/customers/{theirs.id}/identities/{identity.id}/remove").status_code == 404
    assert client.post(f"/shops/{shop.id}/customers/{fang.id}/identities/{identity.id}/remove").status_code == 404
    session.expire_all()
    assert session.get(Customer, theirs.id).name == "赵敏"
    kept = sa.select(CustomerIdentity.id).where(CustomerIdentity.shop_id.in_([shop.id, other.id]))
    assert session.scalars(kept).all() == [identity.id]


def test_the_list_filters_by_gender_and_source_channel(client, session):
    shop = ShopFactory()
    _fang(session, shop, gender="female", source_channel="store")
    create_customer(session, shop_id=shop.id, name="张伟", phone="13900000003", gender="male", source_channel="online")
    session.commit()
    log_in_to_shop(client, shop.id)

    def listed(query):
        page = client.get(f"/shops/{shop.id}/customers?{query}").get_data(as_text=True)
        return sorted(n for n in ("王芳", "张伟") if f">{n}</a>" in page)

    assert listed("gender=female") == ["王芳"]
    assert listed("source_channel=online") == ["张伟"]
    assert listed("gender=male&source_channel=store") == []
    assert client.get(f"/shops/{shop.id}/customers?gender=robot").status_code == 400
