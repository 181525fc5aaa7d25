"""Every page in 简体中文 shows no UI text left in English (Souk issue 14 §1).

Each kind of person (anonymous visitor, shop owner, staff, platform admin, developer) opens the site in
an English browser, picks 简体中文 *before* logging in, logs in and then follows the site's own links
(plus every page of the URL map that takes no arguments), breadth first, one page per URL shape.
On each page the visible text, placeholders, titles and labels are collected, and every Latin word
that is neither technical (code, ids, URLs, e-mails, numbers) nor in ``LATIN_WORDS`` fails the test.

What people wrote is not UI text and stays as written: the names, titles and texts the demo stored in
the database (shops, people, products, apps, listings…) are read back and left out, except lowercase
identifiers, so a status or a kind shown raw (``paid``) still fails. Content kept elsewhere is marked
``translate="no"`` in the templates (the HTML attribute that tells browsers and translators to leave
it alone), like ``code``, ``pre``, ``kbd`` and ``samp``.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict, deque
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from e2e.harness import log_in, new_page
from plugin_modules import TIERED, TIERED_SCHEMA

from souk_platform.auth.models import User
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.db import db
from souk_platform.shops.services import shops_of

# Latin words that are right in Chinese UI text, each for a reason.
LATIN_WORDS = {
    # names: the product, the standards and formats it speaks, the languages on offer
    "Souk", "OAuth", "PKCE", "REST", "API", "JSON", "SDK", "Wasm", "WebAssembly", "ABI", "Webhook",
    "Webhooks", "webhook", "Standard", "HTTP", "HTTPS", "URL", "URI", "CSV", "YAML", "PNG", "JPEG", "WebP",
    "SVG", "PDF", "ZIP", "SSRF", "GDPR", "GET", "POST", "English",
    # abbreviations Chinese commerce uses as they are
    "ID", "SKU", "IP", "UTC", "ERP", "KiB", "MiB", "logo", "App",
    # money codes
    "CNY", "USD", "EUR", "HKD", "HK",
}  # fmt: skip
# A code in capitals: a SKU code, a device login code ("SET-WHITE", "BCDF-GHJK").
CAPITALS_CODE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")
# Command names said in a sentence ("输入 souk-dev 在终端里显示的代码").
COMMANDS = {"souk-dev", "souk-plugin"}

# Where the demo keeps what people wrote: every text in these columns (JSON included) is content.
CONTENT_COLUMNS = {
    "name", "title", "display_name", "description", "changelog", "bio", "body", "note", "memo", "text",
    "texts", "reply_text", "service_title", "package_name", "actor_name", "acceptance_criteria",
    "manifest", "lines", "reason", "decision_reason", "plan", "scope_justifications",
}  # fmt: skip
IDENTIFIER = re.compile(r"[a-z0-9_.\-]*")

# A chunk of text with one of these is code, an id, a URL, an e-mail, an amount or a date: not words.
TECHNICAL = re.compile(r"[\d_./@:=<>{}#$%+\\|~`^&*\[\]]")

EDGE_PUNCTUATION = ".,;:!?()\"'“”‘’（），。：；！？、·…—-"

# Pages the crawl does not open: leaving the session or the language, the API (its docs are English
# for developers), files and exports, forms that act on GET.
SKIPPED = re.compile(r"^/(logout|language/|api/|static/|\.well-known/|favicon)|/export$")

PEOPLE = [
    None,  # an anonymous visitor
    ("owner@demo.souk.dev", "souk-demo-owner"),
    ("staff@demo.souk.dev", "souk-demo-staff"),
    ("admin@demo.souk.dev", "souk-demo-admin"),
    ("dev@demo.souk.dev", "souk-demo-dev"),
]

# The text a person reads: text nodes outside untranslated content, and the attributes shown.
VISIBLE_TEXT = r"""() => {
  const untranslated = "script, style, code, pre, kbd, samp, textarea, noscript, [translate=no]";
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text && !node.parentElement.closest(untranslated)) texts.push(text);
  }
  for (const element of document.querySelectorAll("[placeholder], [title], [aria-label], [alt], input[type=submit]")) {
    if (element.closest(untranslated)) continue;
    for (const name of ["placeholder", "title", "aria-label", "alt"]) {
      if (element.getAttribute(name)) texts.push(element.getAttribute(name));
    }
    if (element.tagName === "INPUT" && element.type === "submit" && element.value) texts.push(element.value);
  }
  texts.push(document.title);
  return texts;
}"""


SVG_AWARE_HREFS = (
    "links => links.map(a => typeof a.href === 'string' ? a.href : new URL(a.href.baseVal, document.baseURI).href)"
)


def english_words(text: str) -> list[str]:
    """The Latin words in ``text`` that are neither technical nor in ``LATIN_WORDS``."""
    found = []
    for chunk in re.sub(r"`[^`]*`", " ", text).split():  # `…` quotes a command or a field name
        chunk = chunk.strip(EDGE_PUNCTUATION)
        if TECHNICAL.search(chunk) or chunk in COMMANDS or CAPITALS_CODE.fullmatch(chunk):
            continue
        # one letter is a label ("需求 A"), a unit ("µs") or a level ("V1" is technical already)
        found += [word for word in re.findall(r"[A-Za-z]{2,}", chunk) if word not in LATIN_WORDS]
    return found


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def content_people_wrote(app) -> list[str]:
    """The texts stored in ``CONTENT_COLUMNS`` that are not lowercase identifiers, longest first."""
    found: set[str] = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [column for column in table.columns if column.name in CONTENT_COLUMNS]
            if not columns:
                continue
            for row in db.session.execute(sa.select(*columns)):
                found.update(text.strip() for value in row for text in _strings(value))
    return sorted((text for text in found if text and not IDENTIFIER.fullmatch(text)), key=len, reverse=True)


def _without(text: str, contents: list[str]) -> str:
    for content in contents:
        if content in text:
            text = text.replace(content, " ")
    return text


def _shape(path: str, query: str) -> str:
    """One page per shape: ids and numbers in the path, and query values, do not make a new page."""
    path = re.sub(r"/[a-z]{2,5}_[0-9a-z]{12,}", "/<id>", path)
    path = re.sub(r"/\d+(?=/|$)", "/<n>", path)
    return path + "?" + ",".join(sorted({key for key, _value in parse_qsl(query)}))


def _argument_free_pages(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and not SKIPPED.search(rule.rule)
    )


def crawl(
    page, base_url: str, starts: list[str], contents: list[str], shots=None
) -> tuple[dict[str, list[str]], set[str]]:
    """Visit the site from ``starts``: each page's English left over, by path (5xx pages say so too),
    and the shapes of the pages visited (each one screenshotted when ``shots`` is given)."""
    problems: dict[str, list[str]] = defaultdict(list)
    shapes: set[str] = set()
    queue = deque(starts)
    while queue:
        split = urlsplit(queue.popleft())
        shape = _shape(split.path, split.query)
        if shape in shapes or SKIPPED.search(split.path):
            continue
        shapes.add(shape)
        response = page.goto(base_url + urlunsplit(("", "", split.path, split.query, "")))
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if response.status >= 500:
            problems[split.path].append(f"HTTP {response.status}")
            continue
        if shots is not None:
            shots.take(page, shape)
        for text in page.evaluate(VISIBLE_TEXT):
            if english_words(_without(text, contents)):
                problems[split.path].append(text[:120])
        # An SVG link's href is an SVGAnimatedString (the journey canvas draws its nodes as links).
        for href in page.eval_on_selector_all("a[href]", SVG_AWARE_HREFS):
            target = urlsplit(href)
            if href.startswith(base_url) and not SKIPPED.search(target.path):
                queue.append(urlunsplit(("", "", target.path, target.query, "")))
    return problems, shapes


def test_the_english_check_knows_words_from_code_and_names():
    assert english_words("Order status: paid") == ["Order", "status", "paid"]
    assert english_words("已支付 · order.paid · read_orders · ord_01abc · dev@demo.souk.dev · (SET-WHITE)") == []
    assert english_words("运行 `souk-dev login` · 输入 souk-dev 显示的代码") == []
    assert english_words("Souk API 文档 · 客户端 ID · ¥5.00 · 2026-12-06 22:41 UTC · English · 需求 A") == []
    assert _without("Souk Demo Tea House 茶舍 · 已支付", ["Souk Demo Tea House 茶舍"]) == "  · 已支付"


@pytest.fixture(scope="module")
def demo_shop_with_a_plugin(souk):
    """The demo shop runs the tiered-discount sample at checkout, once: its plugin pages have rows to show."""
    with souk.app.app_context():
        owner = db.session.scalars(sa.select(User).where(User.email == PEOPLE[1][0])).one()
        shop, _role = shops_of(db.session, owner.id)[0]
        _token, secret = create_access_token(
            db.session, shop_id=shop.id, name="Crawl set-up", scopes=all_scopes(), created_by=owner.id
        )
        db.session.commit()
    client, auth = souk.app.test_client(), {"Authorization": f"Bearer {secret}"}
    upload = {
        "name": "Tiers",
        "point": "cart.discounts",
        "module_base64": base64.b64encode(TIERED).decode(),
        "config_schema": TIERED_SCHEMA,
    }
    r = client.post("/api/v1/plugins", json=upload, headers=auth)
    assert r.status_code == 201, r.get_json()
    config = {"tiers": [{"min_spend": 8000, "amount_off": 1000}]}
    activation = {"plugin_id": r.get_json()["id"], "config": config}
    r = client.post("/api/v1/plugin-activations", json=activation, headers=auth)
    assert r.status_code == 201, r.get_json()
    products = client.get("/api/v1/products", headers=auth).get_json()["items"]
    sku = next(s for p in products if p["status"] == "active" for s in p["skus"] if s["available"] > 0)
    r = client.post("/api/v1/carts", json={"lines": [{"sku_id": sku["id"], "quantity": 1}]}, headers=auth)
    assert r.status_code == 201, r.get_json()
    assert client.post(f"/api/v1/carts/{r.get_json()['id']}/checkout", json={}, headers=auth).status_code == 201


@pytest.mark.usefixtures("demo_shop_with_a_plugin")
@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p[0].split("@")[0] if p else "visitor")
def test_every_page_in_chinese_has_no_english_ui_text(souk, browser, shots, person):
    page = new_page(browser, locale="en-US")  # the choice on the page, not the browser, makes it Chinese
    page.goto(f"{souk.url}/login")
    page.get_by_role("link", name="简体中文").click()
    if person:
        log_in(page, souk.url, *person)
        page.wait_for_url(f"{souk.url}/")
    shots.take(page, "home-zh")

    starts = ["/", *_argument_free_pages(souk.app)]
    problems, visited = crawl(page, souk.url, starts, content_people_wrote(souk.app), shots)
    reached = {
        "owner": {
            "/shops/<id>/plugins/<id>/settings?",
            "/shops/<id>/plugin-invocations/<id>?",
            "/shops/<id>/orders/<id>?",
            "/shops/<id>?",  # the back office: dashboard, products, categories, customers, 360, levels, tags
            "/shops/<id>/products/<id>?",
            "/shops/<id>/categories?",
            "/shops/<id>/customers/<id>?",
            "/shops/<id>/levels?",
            "/shops/<id>/tags/<id>?",
        },
        "staff": {"/shops/<id>?", "/shops/<id>/customers/<id>?"},
        "admin": {"/admin/listings/<id>?"},
        "dev": {"/developer/apps/<id>/listing?", "/developer/apps/<id>/webhooks?"},
    }.get(person[0].split("@")[0] if person else "", set())
    assert reached <= visited, "the crawl no longer reaches pages it must check"
    report = "\n".join(f"{path}: {text!r}" for path, texts in sorted(problems.items()) for text in texts)
    assert not problems, f"English left on Chinese pages:\n{report}"
