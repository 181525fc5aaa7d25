"""The files `souk-plugin new` writes: a working ABI v1 plugin for `cart.validate` in C or AssemblyScript.

Both samples add up the `"quantity"` of every cart line and refuse carts above 100 units, so a new
project builds, passes `check` and gives a visible answer from `run` on the sample `input.json` at once.
"""

from __future__ import annotations

import json

#: `--lang` values and the source file of each.
LANGUAGES = {"c": "plugin.c", "assemblyscript": "plugin.ts"}

#: Freestanding C to a zero-import module (NOTES.md): without the `--export` flags the linker drops
#: everything, without `-mbulk-memory` a hidden memcpy/memset fails the link.
C_COMPILE_FLAGS = (
    "--target=wasm32",
    "-O2",
    "-nostdlib",
    "-mbulk-memory",
    "-Wl,--no-entry",
    "-Wl,--export=alloc",
    "-Wl,--export=run",
    "-Wl,--strip-all",
)

#: `--runtime stub` alone still imports `env.abort`; `--use abort=` removes it. ABI v1 allows no start
#: function, so AssemblyScript's top-level code is exported as `_initialize` instead.
ASC_FLAGS = ("-O3", "--noAssert", "--runtime", "stub", "--use", "abort=", "--exportStart", "_initialize")

WASM_FILE = "plugin.wasm"

_C_SOURCE = r"""/*
 * A Souk plugin for the `cart.validate` extension point (ABI v1).
 *
 * ABI v1: a core Wasm module with no imports that exports `memory`, `alloc(len) -> ptr` and
 * `run(ptr, len) -> (out_ptr << 32) | out_len`. Input and output are UTF-8 JSON. Each call gets a
 * fresh instance, so the bump allocator below never needs to free anything.
 *
 * This sample adds up the `"quantity"` of every cart line and refuses carts above MAX_UNITS units.
 * Built freestanding (no libc): see the Makefile for the exact clang flags.
 */

#define MAX_UNITS 100
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

static unsigned long total_quantity(const unsigned char *json, int len) {
    static const char key[] = "\"quantity\":";
    const unsigned char *end = json + len;
    unsigned long total = 0;
    for (const unsigned char *at = json; at < end; ++at) {
        if (!starts_with(at, end, key)) continue;
        at += sizeof key - 1;
        while (at < end && *at == ' ') ++at;
        unsigned long quantity = 0;
        for (; at < end && *at >= '0' && *at <= '9'; ++at) quantity = quantity * 10 + (unsigned long)(*at - '0');
        total += quantity;
    }
    return total;
}

static unsigned char *append(unsigned char *out, const char *text) {
    while (*text) *out++ = (unsigned char)*text++;
    return out;
}

static unsigned char *append_number(unsigned char *out, unsigned long value) {
    char digits[24];
    int count = 0;
    do digits[count++] = (char)('0' + value % 10); while ((value /= 10) != 0);
    while (count) *out++ = (unsigned char)digits[--count];
    return out;
}

__attribute__((export_name("run"))) unsigned long long run(const unsigned char *input, int len) {
    unsigned long units = total_quantity(input, len);
    unsigned char *out = alloc(256);
    unsigned char *cursor = append(out, "{\"errors\":[");
    if (units > MAX_UNITS) {
        cursor = append(cursor, "{\"field\":\"lines\",\"message\":\"At most ");
        cursor = append_number(cursor, MAX_UNITS);
        cursor = append(cursor, " units per order; this cart has ");
        cursor = append_number(cursor, units);
        cursor = append(cursor, ".\"}");
    }
    cursor = append(cursor, "]}");
    return ((unsigned long long)(unsigned long)out << 32) | (unsigned long long)(cursor - out);
}
"""

_TS_SOURCE = """\
// A Souk plugin for the `cart.validate` extension point (ABI v1), in AssemblyScript.
//
// ABI v1: a core Wasm module with no imports that exports `memory`, `alloc(len) -> ptr` and
// `run(ptr, len) -> (out_ptr << 32) | out_len`. Input and output are UTF-8 JSON. Each call gets a
// fresh instance, so nothing allocated here needs freeing (the stub runtime never frees).
//
// This sample adds up the `"quantity"` of every cart line and refuses carts above MAX_UNITS units.

const MAX_UNITS: u64 = 100;
const KEY = '"quantity":';

export function alloc(len: i32): i32 {
  return <i32>heap.alloc(<usize>len);
}

function totalQuantity(ptr: usize, len: usize): u64 {
  const keyLength = <usize>KEY.length;
  let total: u64 = 0;
  let at: usize = 0;
  while (at + keyLength <= len) {
    let matches = true;
    for (let i: usize = 0; i < keyLength; i++) {
      if (<i32>load<u8>(ptr + at + i) != KEY.charCodeAt(<i32>i)) {
        matches = false;
        break;
      }
    }
    if (!matches) {
      at++;
      continue;
    }
    at += keyLength;
    while (at < len && load<u8>(ptr + at) == 0x20) at++;
    let quantity: u64 = 0;
    while (at < len) {
      const digit = <u64>load<u8>(ptr + at);
      if (digit < 0x30 || digit > 0x39) break;
      quantity = quantity * 10 + (digit - 0x30);
      at++;
    }
    total += quantity;
  }
  return total;
}

export function run(ptr: i32, len: i32): i64 {
  const units = totalQuantity(<usize>ptr, <usize>len);
  let json = '{"errors":[';
  if (units > MAX_UNITS) {
    json +=
      '{"field":"lines","message":"At most ' +
      MAX_UNITS.toString() +
      " units per order; this cart has " +
      units.toString() +
      '."}';
  }
  json += "]}";
  const out = String.UTF8.encode(json);
  return (<i64>changetype<usize>(out) << 32) | <i64>out.byteLength;
}
"""

_SAMPLE_INPUT = {
    "cart": {
        "id": "cart_demo",
        "customer_id": "cus_demo",
        "status": "open",
        "lines": [
            {"id": "line_1", "sku_id": "sku_green_tea", "quantity": 2},
            {"id": "line_2", "sku_id": "sku_tea_cup", "quantity": 1},
        ],
        "converted_order_id": None,
        "version": 1,
    },
    "customer": {"id": "cus_demo", "level": 2, "tags": ["vip"]},
    # What the merchant set in the plugin's settings; production always sends it (here: none).
    "config": {},
}

_README = """\
# {name}

A Souk plugin for the `cart.validate` extension point (ABI v1), written in {language}. It adds up the
quantity of every cart line and refuses carts above 100 units.

    souk-plugin build                     # {build_hint}, then `check`
    souk-plugin run plugin.wasm --point cart.validate --input input.json

`run` uses the production limits (fuel, memory, input and output size, deadline), scaled to the number
of cart lines like production does (`--lines N` to choose). To re-run a call logged in production,
export it from the invocation log and use `souk-plugin replay export.json --wasm plugin.wasm`.

ABI v1: the module imports nothing and exports `memory`, `alloc(len: i32) -> i32` and
`run(ptr: i32, len: i32) -> i64` returning `(out_ptr << 32) | out_len`; input and output are UTF-8 JSON.
Every call runs in a fresh instance: nothing survives between calls.
"""


def project_files(name: str, language: str) -> dict[str, str]:
    """File name -> text of a new project called `name` in `language` (a key of `LANGUAGES`)."""
    files = {"input.json": json.dumps(_SAMPLE_INPUT, indent=2) + "\n", ".gitignore": WASM_FILE + "\n"}
    if language == "c":
        files["plugin.c"] = _C_SOURCE
        files["Makefile"] = (
            f"# Freestanding C to a zero-import Wasm module (Debian packages: clang lld).\n"
            f"{WASM_FILE}: plugin.c\n\tclang {' '.join(C_COMPILE_FLAGS)} -o $@ $<\n"
        )
        files["README.md"] = _README.format(name=name, language="C", build_hint="or `make`: clang + wasm-ld")
    else:
        files["plugin.ts"] = _TS_SOURCE
        files["package.json"] = (
            json.dumps(
                {
                    "name": name.lower().replace("_", "-"),
                    "version": "0.1.0",
                    "private": True,
                    "scripts": {"build": f"asc plugin.ts {' '.join(ASC_FLAGS)} -o {WASM_FILE}"},
                    "devDependencies": {"assemblyscript": "^0.28.0"},
                },
                indent=2,
            )
            + "\n"
        )
        files[".gitignore"] += "node_modules/\n"
        files["README.md"] = _README.format(
            name=name, language="AssemblyScript", build_hint="after `npm install`; or `npm run build`"
        )
    return files
