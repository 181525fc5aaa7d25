"""The files `souk-dev app init` writes: a manifest, a listing, the app's web side and a discount plugin.

The plugin project is `souk-plugin new`'s C project (Makefile, README, .gitignore) with the source and
sample input swapped for a `cart.discounts` plugin, so `souk-plugin build` and `run` work on it as is.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from souk_sdk._project_templates import project_files

PLUGIN_DIR = "plugins/discount"
MANIFEST_FILE = "manifest.yaml"
LISTING_FILE = "listing.json"

#: The plugin's defaults (fen) when the merchant has not set its settings: 5 yuan off from 100 yuan.
MIN_SPEND = 10000
AMOUNT_OFF = 500
#: Where `flask --app app run --port 8000` serves the app's web side while you develop.
LOCAL_URL = "http://127.0.0.1:8000"
#: The discount's label with the defaults (the plugin writes it from the numbers it uses).
DEFAULT_LABEL = "5 off orders of 100 or more"

_MANIFEST = """\
# The app manifest: what `souk-dev app deploy` publishes as a new version when it changed.
name: {name}
description: A Souk app made with souk-dev.
client_type: confidential
# Where Souk sends the merchant after they approve the install (app.py trades the code for a token).
# http is allowed on this computer only; a public https URL before you list the app for real.
redirect_uris:
  - {local_url}/callback
# read_orders lets the app receive order events. Its plugin needs no scope: it runs in the shops that
# install the app, from the install on.
scopes:
  - read_orders
# Each endpoint is subscribed in every shop that installs the app, signed with the app's webhook
# secret (`souk-dev webhooks secret`). Souk delivers to this computer only when it runs with
# SOUK_WEBHOOKS_ALLOW_LOOPBACK=1; elsewhere, `souk-dev webhooks listen` forwards the deliveries.
webhooks:
  - topic: order.paid
    uri: {local_url}/webhooks/souk
plugins:
  - point: cart.discounts
    module: {plugin_dir}/plugin.wasm
    # The merchant's settings form (shop → Plugins → Settings) is generated from this schema; the
    # plugin reads the values from its input's "config" and falls back to the defaults. Amounts are
    # fen; "format: money" makes the form show and take them in yuan.
    config_schema:
      type: object
      additionalProperties: false
      properties:
        min_spend:
          type: integer
          format: money
          title: Minimum order
          description: Orders whose subtotal reaches this get the discount.
          minimum: 0
          maximum: 100000000
          default: {min_spend}
        amount_off:
          type: integer
          format: money
          title: Amount off
          minimum: 1
          maximum: 100000000
          default: {amount_off}
    tests:
      - name: {min_yuan} yuan or more gets {off_yuan} off
        input:
          lines: [{{sku_id: sku_demo, quantity: 2, unit_price: 6000}}]
          customer: null
          subtotal: 12000
          config: {{}}
        expect:
          discounts: [{{label: "{label}", target: order, amount: {amount_off}}}]
      - name: a small cart gets nothing
        input:
          lines: [{{sku_id: sku_demo, quantity: 1, unit_price: 3000}}]
          customer: null
          subtotal: 3000
          config: {{}}
        expect:
          discounts: []
      - name: the merchant's settings apply
        input:
          lines: [{{sku_id: sku_demo, quantity: 1, unit_price: 6000}}]
          customer: null
          subtotal: 6000
          config: {{min_spend: 5000, amount_off: 1050}}
        expect:
          discounts: [{{label: "10.50 off orders of 50 or more", target: order, amount: 1050}}]
pricing:
  - id: free
    kind: free
    price: 0
"""

_APP = """\
\"\"\"The web side of {name}: the install callback and the webhook endpoint.

    export SOUK_WEBHOOK_SECRET="$(souk-dev webhooks secret)"   # with SOUK_CLIENT_ID and SOUK_CLIENT_SECRET
    flask --app app run --port 8000

- GET /callback: Souk sends the merchant here after they approve the install; the app trades the
  code for the shop's token (with the client secret, so no PKCE is needed) and keeps it in
  installations.json.
- POST /webhooks/souk: deliveries to the manifest's endpoint, verified with the app's webhook secret.

installations.json (0600) is enough while you develop; keep tokens encrypted in a database in production.
\"\"\"

import json
import logging
import os
from pathlib import Path

from flask import Flask, request
from markupsafe import escape

from souk_sdk import OAuthClient, OAuthError
from souk_sdk.webhooks import WebhookVerificationError, verify

API_URL = os.environ.get("SOUK_API_URL", "http://127.0.0.1:5000")
# The redirect URI of the code exchange: the address Souk sent the browser to, unless a proxy in front
# of the app changes it (then set this to the manifest's redirect URI).
REDIRECT_URI = os.environ.get("SOUK_REDIRECT_URI")
# Several secrets, separated by spaces, while one is being rotated (`souk-dev webhooks secret` prints both).
SECRETS = os.environ.get("SOUK_WEBHOOK_SECRET", "").split()
STORE = Path(__file__).with_name("installations.json")

app = Flask(__name__)
log = logging.getLogger("souk-app")
seen: set[str] = set()  # use your database in production: delivery is at least once


@app.get("/callback")
def installed():
    code = request.args.get("code")
    if not code:
        return f"<p>The install did not finish: {{escape(request.args.get('error', 'no code'))}}</p>", 400
    client = OAuthClient(API_URL, os.environ["SOUK_CLIENT_ID"], os.environ["SOUK_CLIENT_SECRET"])
    try:
        with client:
            token = client.exchange_code(code, redirect_uri=REDIRECT_URI or request.base_url)
    except OAuthError as error:
        return f"<p>Souk refused the code: {{escape(error.error_description or error.error)}}</p>", 400
    shop_id = token.shop_id
    saved = json.loads(STORE.read_text()) if STORE.exists() else {{}}
    saved[shop_id] = {{"access_token": token.access_token, "refresh_token": token.refresh_token}}
    STORE.touch(mode=0o600)
    STORE.write_text(json.dumps(saved, indent=2))
    log.warning("installed on %s with %s", shop_id, " ".join(token.scopes))
    return f"<h1>Installed</h1><p id='shop'>{{escape(shop_id)}}</p><p>You can close this tab.</p>"


@app.post("/webhooks/souk")
def receive():
    try:
        event = verify(request.get_data(), request.headers, SECRETS)
    except WebhookVerificationError as error:
        return {{"error": error.reason}}, 400
    delivery_id = request.headers["webhook-id"]
    if delivery_id in seen:
        return "", 204
    seen.add(delivery_id)
    if event["type"] == "order.paid":
        order = event["data"]
        log.warning("order.paid %s total %s %s", order["id"], order["total"], order["currency"])
    return "", 204
"""

_PLUGIN_C = r"""/*
 * A Souk plugin for the `cart.discounts` extension point (ABI v1).
 *
 * ABI v1: a core Wasm module with no imports that exports `memory`, `alloc(len) -> ptr` and
 * `run(ptr, len) -> (out_ptr << 32) | out_len`. Input and output are UTF-8 JSON. Each call gets a
 * fresh instance, so the bump allocator below never needs to free anything.
 *
 * Orders whose "subtotal" (fen) reaches min_spend get amount_off fen off the whole order. Both come
 * from the merchant's settings (the input's "config", shaped by the manifest's config_schema), else
 * from the defaults below.
 */

#define MIN_SPEND %(min_spend)d
#define AMOUNT_OFF %(amount_off)d
#define PAGE_SIZE 65536u

extern unsigned char __heap_base;
static unsigned long heap_top;

__attribute__((export_name("alloc"))) unsigned char *alloc(int len) {
    if (heap_top == 0) heap_top = (unsigned long)&__heap_base;
    unsigned long start = (heap_top + 7u) & ~7ul;
    unsigned long end = start + (unsigned long)len;
    unsigned long have = __builtin_wasm_memory_size(0) * PAGE_SIZE;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + PAGE_SIZE - 1) / PAGE_SIZE) == (unsigned long)-1)
        __builtin_trap(); /* over the sandbox's memory limit */
    heap_top = end;
    return (unsigned char *)start;
}

static int starts_with(const unsigned char *at, const unsigned char *end, const char *word) {
    for (; *word; ++word, ++at)
        if (at >= end || *at != (unsigned char)*word) return 0;
    return 1;
}

/* The whole number after the first `"key":` of the JSON, or `fallback` when the key is absent. */
static unsigned long number_after(const unsigned char *json, int len, const char *key, unsigned long fallback) {
    const unsigned char *end = json + len;
    for (const unsigned char *at = json; at < end; ++at) {
        if (*at != '"' || !starts_with(at + 1, end, key)) continue;
        const unsigned char *next = at + 1;
        while (*key) ++key, ++next;
        if (next + 1 >= end || next[0] != '"' || next[1] != ':') return fallback;
        next += 2;
        while (next < end && *next == ' ') ++next;
        if (next >= end || *next < '0' || *next > '9') return fallback;
        unsigned long value = 0;
        for (; next < end && *next >= '0' && *next <= '9'; ++next) value = value * 10 + (unsigned long)(*next - '0');
        return value;
    }
    return fallback;
}

static unsigned char *append(unsigned char *out, const char *text) {
    while (*text) *out++ = (unsigned char)*text++;
    return out;
}

static unsigned char *append_number(unsigned char *out, unsigned long value) {
    char digits[24];
    int count = 0;
    do digits[count++] = (char)('0' + value %% 10); while ((value /= 10) > 0);
    while (count > 0) *out++ = (unsigned char)digits[--count];
    return out;
}

/* Fen as yuan: 500 -> "5", 1050 -> "10.50". */
static unsigned char *append_yuan(unsigned char *out, unsigned long fen) {
    out = append_number(out, fen / 100);
    if (fen %% 100) {
        *out++ = '.';
        *out++ = (unsigned char)('0' + fen %% 100 / 10);
        *out++ = (unsigned char)('0' + fen %% 10);
    }
    return out;
}

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    unsigned long min_spend = number_after(input, len, "min_spend", MIN_SPEND);
    unsigned long amount_off = number_after(input, len, "amount_off", AMOUNT_OFF);
    unsigned char *out = alloc(256);
    unsigned char *cursor = append(out, "{\"discounts\":[");
    if (number_after(input, len, "subtotal", 0) >= min_spend) {
        cursor = append(cursor, "{\"label\":\"");
        cursor = append_yuan(cursor, amount_off);
        cursor = append(cursor, " off orders of ");
        cursor = append_yuan(cursor, min_spend);
        cursor = append(cursor, " or more\",\"target\":\"order\",\"amount\":");
        cursor = append_number(cursor, amount_off);
        cursor = append(cursor, "}");
    }
    cursor = append(cursor, "]}");
    return ((unsigned long long)(unsigned long)out << 32) | (unsigned long long)(cursor - out);
}
"""

_PLUGIN_INPUT: dict[str, Any] = {
    "lines": [{"sku_id": "sku_demo", "quantity": 2, "unit_price": 6000}],
    "customer": None,
    "subtotal": 12000,
    "config": {},
}

_README = """\
# {name}

A Souk app made with `souk-dev app init`:

- `manifest.yaml` — scopes, the `order.paid` webhook endpoint, the `cart.discounts` plugin with its
  settings schema and the tests reviewers run, and the pricing. Every `souk-dev app deploy` publishes
  it as a new version when it changed.
- `{plugin_dir}/` — the plugin: `souk-plugin build {plugin_dir}` (deploy builds it when needed), then
  `souk-plugin run {plugin_dir}/plugin.wasm --point cart.discounts --input {plugin_dir}/input.json`.
- `app.py` — the install callback (code → token) and the webhook endpoint that verifies and logs
  `order.paid`: `flask --app app run --port 8000`.
- `listing.json`, `icon.png`, `screenshot.png` — what `souk-dev app deploy --submit` sends for review.

    souk-dev login --client-id ... --client-secret ...
    export SOUK_WEBHOOK_SECRET="$(souk-dev webhooks secret)"
    flask --app app run --port 8000            # in another terminal, same exports
    souk-dev app deploy --submit
    souk-dev app status
    souk-dev webhooks trigger order.paid
    souk-dev webhooks listen --forward-to http://127.0.0.1:8000/webhooks/souk   # when Souk cannot reach you
"""


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (8-bit RGB), made with the standard library only."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _listing(name: str) -> dict[str, object]:
    return {
        "texts": {
            "en": {
                "name": name,
                "tagline": "Five yuan off every order of 100 yuan or more.",
                "description": "Adds a discount to big carts at checkout and logs paid orders.",
            },
            "zh_CN": {
                "name": name,
                "tagline": "满100减5。",
                "description": "结账时为大额订单减价，并记录已支付的订单。",
            },
        },
        "category": "marketing",
        "icon": "icon.png",
        "screenshots": ["screenshot.png"],
        "support_contact": "support@example.com",
        "privacy_url": "https://example.com/privacy",
        "changelog": "First version.",
        "scope_justifications": {
            "read_orders": "To receive order.paid and log paid orders.",
        },
    }


def app_files(name: str) -> dict[str, bytes]:
    """Relative path -> contents of a new app called `name`."""
    manifest = _MANIFEST.format(
        name=json.dumps(name, ensure_ascii=False),
        local_url=LOCAL_URL,
        plugin_dir=PLUGIN_DIR,
        min_spend=MIN_SPEND,
        amount_off=AMOUNT_OFF,
        min_yuan=MIN_SPEND // 100,
        off_yuan=AMOUNT_OFF // 100,
        label=DEFAULT_LABEL,
    )
    files: dict[str, bytes] = {
        MANIFEST_FILE: manifest.encode(),
        LISTING_FILE: (json.dumps(_listing(name), indent=2, ensure_ascii=False) + "\n").encode(),
        # The name goes into a docstring: no quote or backslash may end it early.
        "app.py": _APP.format(name=name.replace("\\", "/").replace('"', "'"), local_url=LOCAL_URL).encode(),
        "README.md": _README.format(name=name, plugin_dir=PLUGIN_DIR).encode(),
        "icon.png": _png(64, 64, (22, 128, 96)),
        "screenshot.png": _png(320, 200, (240, 244, 242)),
        ".gitignore": b"__pycache__/\ninstallations.json\n",
    }
    plugin = project_files("discount", "c")
    plugin["plugin.c"] = _PLUGIN_C % {"min_spend": MIN_SPEND, "amount_off": AMOUNT_OFF}
    plugin["input.json"] = json.dumps(_PLUGIN_INPUT, indent=2) + "\n"
    plugin["README.md"] = (
        "# discount\n\nA `cart.discounts` plugin (ABI v1, freestanding C): orders of 100 yuan or more get 5 off;\n"
        "the merchant changes both numbers in the plugin's settings.\n\n"
        "    souk-plugin build\n    souk-plugin run plugin.wasm --point cart.discounts --input input.json\n"
    )
    for file_name, text in plugin.items():
        files[f"{PLUGIN_DIR}/{file_name}"] = text.encode()
    return files
