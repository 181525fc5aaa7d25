"""The files `souk-dev app init` writes: a manifest, a listing, a webhook handler and a discount plugin.

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

#: Orders of at least this subtotal (fen) get DISCOUNT fen off.
THRESHOLD = 10000
DISCOUNT = 500
_LABEL = "5 off orders of 100 or more"

_MANIFEST = """\
# The app manifest: what `souk-dev app deploy` publishes as a new version.
name: {name}
description: A Souk app made with souk-dev.
client_type: confidential
redirect_uris:
  - http://127.0.0.1:8765/callback
scopes:
  - read_orders
  - read_plugins
  - write_plugins
  - read_webhooks
  - write_webhooks
webhooks:
  # Your public https endpoint (run webhook_handler.py behind it); `souk-dev webhooks listen` forwards
  # deliveries to a local one while you develop.
  - topic: order.paid
    uri: https://{slug}.example.com/webhooks/souk
plugins:
  - point: cart.discounts
    module: {plugin_dir}/plugin.wasm
    tests:
      - name: {threshold_yuan} yuan or more gets {discount_yuan} off
        input:
          lines: [{{sku_id: sku_demo, quantity: 2, unit_price: 6000}}]
          customer: null
          subtotal: 12000
          config: {{}}
        expect:
          discounts: [{{label: "{label}", target: order, amount: {discount}}}]
      - name: a small cart gets nothing
        input:
          lines: [{{sku_id: sku_demo, quantity: 1, unit_price: 3000}}]
          customer: null
          subtotal: 3000
          config: {{}}
        expect:
          discounts: []
pricing:
  - id: free
    kind: free
    price: 0
"""

_HANDLER = '''\
"""Receive Souk webhooks: verify the Standard Webhooks signature, then act on the event.

    SOUK_WEBHOOK_SECRET=whsec_... flask --app webhook_handler run --port 8000
    souk-dev webhooks listen --forward-to http://localhost:8000/webhooks/souk
"""

import logging
import os

from flask import Flask, request

from souk_sdk.webhooks import WebhookVerificationError, verify

app = Flask(__name__)
log = logging.getLogger("webhooks")
# Several secrets, separated by spaces, while one is being rotated.
SECRETS = os.environ.get("SOUK_WEBHOOK_SECRET", "").split()
seen: set[str] = set()  # use your database in production: delivery is at least once


@app.post("/webhooks/souk")
def receive():
    try:
        event = verify(request.get_data(), request.headers, SECRETS)
    except WebhookVerificationError as error:
        return {"error": error.reason}, 400
    delivery_id = request.headers["webhook-id"]
    if delivery_id in seen:
        return "", 204
    seen.add(delivery_id)
    if event["type"] == "order.paid":
        order = event["data"]
        log.warning("order.paid %s total %s %s", order["id"], order["total"], order["currency"])
    return "", 204
'''

_PLUGIN_C = r"""/*
 * A Souk plugin for the `cart.discounts` extension point (ABI v1).
 *
 * ABI v1: a core Wasm module with no imports that exports `memory`, `alloc(len) -> ptr` and
 * `run(ptr, len) -> (out_ptr << 32) | out_len`. Input and output are UTF-8 JSON. Each call gets a
 * fresh instance, so the bump allocator below never needs to free anything.
 *
 * Orders whose "subtotal" (fen) reaches THRESHOLD get DISCOUNT fen off the whole order.
 */

#define THRESHOLD %(threshold)d
#define DISCOUNT %(discount)d
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

static unsigned long subtotal(const unsigned char *json, int len) {
    static const char key[] = "\"subtotal\":";
    const unsigned char *end = json + len;
    for (const unsigned char *at = json; at < end; ++at) {
        if (!starts_with(at, end, key)) continue;
        at += sizeof key - 1;
        while (at < end && *at == ' ') ++at;
        unsigned long value = 0;
        for (; at < end && *at >= '0' && *at <= '9'; ++at) value = value * 10 + (unsigned long)(*at - '0');
        return value;
    }
    return 0;
}

static unsigned char *append(unsigned char *out, const char *text) {
    while (*text) *out++ = (unsigned char)*text++;
    return out;
}

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    unsigned char *out = alloc(256);
    unsigned char *cursor = append(out, "{\"discounts\":[");
    if (subtotal(input, len) >= THRESHOLD)
        cursor = append(cursor, "{\"label\":\"%(label)s\",\"target\":\"order\",\"amount\":%(discount)d}");
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

- `manifest.yaml` — scopes, the `cart.discounts` plugin (with the tests reviewers run), the `order.paid`
  webhook and the pricing. Every `souk-dev app deploy` publishes it as a new version when it changed.
- `{plugin_dir}/` — the plugin: `souk-plugin build {plugin_dir}` (deploy builds it when needed), then
  `souk-plugin run {plugin_dir}/plugin.wasm --point cart.discounts --input {plugin_dir}/input.json`.
- `webhook_handler.py` — a Flask endpoint that verifies and logs `order.paid`.
- `listing.json`, `icon.png`, `screenshot.png` — what `souk-dev app deploy --submit` sends for review.

    souk-dev login --client-id ... --client-secret ...
    souk-dev app deploy --submit
    souk-dev app status
    souk-dev webhooks listen --forward-to http://localhost:8000/webhooks/souk
    souk-dev webhooks trigger order.paid
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
            "read_orders": "To log paid orders.",
            "read_plugins": "To show the plugin's state.",
            "write_plugins": "To switch the discount plugin on.",
            "read_webhooks": "To show the webhook endpoint.",
            "write_webhooks": "To subscribe to order.paid.",
        },
    }


def app_files(name: str) -> dict[str, bytes]:
    """Relative path -> contents of a new app called `name`."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "my-app"
    manifest = _MANIFEST.format(
        name=json.dumps(name, ensure_ascii=False),
        slug=slug,
        plugin_dir=PLUGIN_DIR,
        threshold_yuan=THRESHOLD // 100,
        discount_yuan=DISCOUNT // 100,
        label=_LABEL,
        discount=DISCOUNT,
    )
    files: dict[str, bytes] = {
        MANIFEST_FILE: manifest.encode(),
        LISTING_FILE: (json.dumps(_listing(name), indent=2, ensure_ascii=False) + "\n").encode(),
        "webhook_handler.py": _HANDLER.encode(),
        "README.md": _README.format(name=name, plugin_dir=PLUGIN_DIR).encode(),
        "icon.png": _png(64, 64, (22, 128, 96)),
        "screenshot.png": _png(320, 200, (240, 244, 242)),
        ".gitignore": b"__pycache__/\n",
    }
    plugin = project_files("discount", "c")
    plugin["plugin.c"] = _PLUGIN_C % {"threshold": THRESHOLD, "discount": DISCOUNT, "label": _LABEL}
    plugin["input.json"] = json.dumps(_PLUGIN_INPUT, indent=2) + "\n"
    plugin["README.md"] = (
        "# discount\n\nA `cart.discounts` plugin (ABI v1, freestanding C): orders of 100 yuan or more get 5 off.\n\n"
        "    souk-plugin build\n    souk-plugin run plugin.wasm --point cart.discounts --input input.json\n"
    )
    for file_name, text in plugin.items():
        files[f"{PLUGIN_DIR}/{file_name}"] = text.encode()
    return files
