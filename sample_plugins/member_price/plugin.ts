// member_price — member-level prices for the `cart.discounts` extension point (ABI v1, AssemblyScript).
//
// Config: {"percent_off": [0, 2, 5, 8, 12]} — percent off the order for levels V1..V5 (index 0 = V1);
// optional "label_prefix" is not supported on purpose (labels are fixed: "V3 member price").
// A guest (customer null), an unknown level, or 0 % gives {"discounts": []}.
//
// ABI v1: zero imports; exports `memory`, `alloc(len) -> ptr`, `run(ptr, len) -> (out_ptr << 32) | out_len`.
// The JSON reader below walks raw input bytes with bounds checks and never builds a tree: anything it
// does not understand reads as "absent", so malformed input gives the neutral answer, never a trap.

export function alloc(len: i32): i32 {
  return <i32>heap.alloc(<usize>len);
}

const MAX_DEPTH = 64;
const NONE: i32 = -1;

let base: usize = 0;
let size: i32 = 0;

function at(i: i32): i32 {
  return <i32>load<u8>(base + <usize>i);
}

function skipWs(i: i32): i32 {
  if (i < 0) return NONE;
  while (i < size) {
    const c = at(i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    i++;
  }
  return i;
}

function skipString(i: i32): i32 {
  if (i < 0 || i >= size || at(i) != 0x22) return NONE;
  i++;
  while (i < size) {
    const c = at(i);
    if (c == 0x5c) i += 2;
    else if (c == 0x22) return i + 1;
    else i++;
  }
  return NONE;
}

function skipValue(i: i32): i32 {
  i = skipWs(i);
  if (i < 0 || i >= size) return NONE;
  let depth = 0;
  do {
    if (i >= size) return NONE;
    const c = at(i);
    if (c == 0x22) {
      i = skipString(i);
      if (i < 0) return NONE;
    } else if (c == 0x7b || c == 0x5b) {
      if (++depth > MAX_DEPTH) return NONE;
      i++;
    } else if (c == 0x7d || c == 0x5d) {
      if (--depth < 0) return NONE;
      i++;
    } else if (c == 0x2c || c == 0x3a || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) {
      if (depth == 0) return NONE;
      i++;
    } else {
      const start = i;
      while (i < size) {
        const d = at(i);
        const word = (d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x7a) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x45;
        if (!word) break;
        i++;
      }
      if (i == start) return NONE;
    }
  } while (depth > 0);
  return i;
}

function stringIs(i: i32, key: string): bool {
  if (i >= size || at(i) != 0x22) return false;
  i++;
  for (let k = 0; k < key.length; k++, i++) {
    if (i >= size || at(i) != key.charCodeAt(k)) return false;
  }
  return i < size && at(i) == 0x22;
}

/** The index of `key`'s value in the object at `i`, or NONE. */
function objGet(i: i32, key: string): i32 {
  i = skipWs(i);
  if (i < 0 || i >= size || at(i) != 0x7b) return NONE;
  i = skipWs(i + 1);
  if (i < size && at(i) == 0x7d) return NONE;
  while (i >= 0 && i < size) {
    const match = stringIs(i, key);
    i = skipWs(skipString(i));
    if (i < 0 || i >= size || at(i) != 0x3a) return NONE;
    i = skipWs(i + 1);
    if (match) return i;
    i = skipWs(skipValue(i));
    if (i < 0 || i >= size || at(i) != 0x2c) return NONE;
    i = skipWs(i + 1);
  }
  return NONE;
}

/** The index of element `n` of the array at `i`, or NONE. */
function arrGet(i: i32, n: i32): i32 {
  i = skipWs(i);
  if (i < 0 || i >= size || at(i) != 0x5b) return NONE;
  i = skipWs(i + 1);
  if (i >= size || at(i) == 0x5d) return NONE;
  for (let k = 0; k < n; k++) {
    i = skipWs(skipValue(i));
    if (i < 0 || i >= size || at(i) != 0x2c) return NONE;
    i = skipWs(i + 1);
  }
  return i;
}

/** A small non-negative integer at `i` (no fraction/exponent, at most 9 digits), or -1. */
function readInt(i: i32): i32 {
  i = skipWs(i);
  if (i < 0) return -1;
  let value = 0;
  let digits = 0;
  while (i < size) {
    const c = at(i);
    if (c < 0x30 || c > 0x39) break;
    if (++digits > 9) return -1;
    value = value * 10 + (c - 0x30);
    i++;
  }
  if (digits == 0) return -1;
  if (i < size) {
    const c = at(i);
    if (c == 0x2e || c == 0x65 || c == 0x45) return -1;
  }
  return value;
}

function respond(json: string): i64 {
  const out = String.UTF8.encode(json);
  return (<i64>changetype<usize>(out) << 32) | <i64>out.byteLength;
}

export function run(ptr: i32, len: i32): i64 {
  base = <usize>ptr;
  size = len;
  const level = readInt(objGet(objGet(0, "customer"), "level"));
  let percent = -1;
  if (level >= 1 && level <= 5) {
    percent = readInt(arrGet(objGet(objGet(0, "config"), "percent_off"), level - 1));
  }
  if (percent < 1 || percent > 100) return respond('{"discounts":[]}');
  return respond(
    '{"discounts":[{"label":"V' + level.toString() + ' member price","percent":' + percent.toString() + "}]}",
  );
}
