"""Rewriting a module so the host can tell that the guest's `memory.grow` was refused.

With a memory limit, wasmtime makes `memory.grow` past it return -1 and the guest decides what to do;
most then trap (`unreachable`, or a write through a null pointer). The trap alone cannot say whether
memory was the cause: a guest asking for 300 pages at once traps far below the limit. So before
compiling, each `memory.grow` in the code becomes a call to one added function that grows, and on -1
sets an added exported global, `GROW_REFUSED_EXPORT`; after a trap the call path reads it and reports
`memory_limit` (docs/architecture.md §7.1).

Only what ABI v1 allows is rewritten (no imports, one memory, the proposals the engine enables). Any
module this cannot decode is returned unchanged: compiling it then reports the real problem.
"""

from __future__ import annotations

GROW_REFUSED_EXPORT = "__souk_grow_refused"

_SECTION_TYPE, _SECTION_IMPORT, _SECTION_FUNCTION, _SECTION_GLOBAL = 1, 2, 3, 6
_SECTION_EXPORT, _SECTION_CODE = 7, 10
# Where a new global section goes: after every section that must precede it (type … memory, tag).
_BEFORE_GLOBAL = {1, 2, 3, 4, 5, 13}
_VALTYPES = {0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F}
_I32 = 0x7F
_EXPORT_GLOBAL = 0x03


class _Undecodable(Exception):
    pass


def add_grow_probe(module_bytes: bytes) -> bytes:
    """`module_bytes` with every `memory.grow` routed through the probe, or unchanged when not decodable."""
    try:
        return _rewrite(module_bytes)
    except (_Undecodable, IndexError):
        return module_bytes


def _rewrite(module_bytes: bytes) -> bytes:
    sections = _sections(module_bytes)
    ids = [section_id for section_id, _ in sections]
    if _SECTION_IMPORT in ids or _SECTION_CODE not in ids or _SECTION_EXPORT not in ids:
        raise _Undecodable  # imports shift the index spaces (and ABI v1 refuses them anyway)
    payloads = dict(sections)
    types, type_rest = _vector(payloads.get(_SECTION_TYPE, b"\x00"))
    functions, function_rest = _vector(payloads[_SECTION_FUNCTION])
    globals_, global_rest = _vector(payloads.get(_SECTION_GLOBAL, b"\x00"))
    exports, export_rest = _vector(payloads[_SECTION_EXPORT])
    if GROW_REFUSED_EXPORT.encode() in export_rest:
        raise _Undecodable  # the name is taken: leave the module alone
    probe_function = functions  # appended after every defined function (no imports)
    probe_global = globals_

    new_type = type_rest + bytes([0x60, 1, _I32, 1, _I32])
    new_function = function_rest + _u32(types)
    new_global = global_rest + bytes([_I32, 1, 0x41, 0, 0x0B])  # (mut i32) = 0
    name = GROW_REFUSED_EXPORT.encode()
    new_export = export_rest + _u32(len(name)) + name + bytes([_EXPORT_GLOBAL]) + _u32(probe_global)
    bodies, _ = _vector(payloads[_SECTION_CODE])
    code = _rewrite_bodies(payloads[_SECTION_CODE], bodies, _u32(probe_function))
    probe_body = (
        bytes([1, 1, _I32])  # one i32 local
        + bytes([0x20, 0, 0x40, 0, 0x22, 1, 0x41, 0x7F, 0x46, 0x04, 0x40, 0x41, 1, 0x24])
        + _u32(probe_global)
        + bytes([0x0B, 0x20, 1, 0x0B])
    )
    code += _u32(len(probe_body)) + probe_body

    replaced = {
        _SECTION_TYPE: _u32(types + 1) + new_type,
        _SECTION_FUNCTION: _u32(functions + 1) + new_function,
        _SECTION_GLOBAL: _u32(globals_ + 1) + new_global,
        _SECTION_EXPORT: _u32(exports + 1) + new_export,
        _SECTION_CODE: _u32(bodies + 1) + code,
    }
    out = bytearray(module_bytes[:8])
    pending = {_SECTION_TYPE, _SECTION_GLOBAL} - set(ids)
    for section_id, payload in sections:
        if _SECTION_TYPE in pending and section_id != 0:
            out += _section(_SECTION_TYPE, replaced[_SECTION_TYPE])
            pending.discard(_SECTION_TYPE)
        if _SECTION_GLOBAL in pending and section_id != 0 and section_id not in _BEFORE_GLOBAL:
            out += _section(_SECTION_GLOBAL, replaced[_SECTION_GLOBAL])
            pending.discard(_SECTION_GLOBAL)
        out += _section(section_id, replaced.get(section_id, payload))
    return bytes(out)


def _rewrite_bodies(code: bytes, count: int, call_probe: bytes) -> bytes:
    """The code section's bodies (without the count) with `memory.grow 0` replaced by `call probe`."""
    _, offset = _read_u32(code, 0)
    out = bytearray()
    for _ in range(count):
        size, offset = _read_u32(code, offset)
        body = code[offset : offset + size]
        offset += size
        rewritten = _rewrite_body(body, call_probe)
        out += _u32(len(rewritten)) + rewritten
    if offset != len(code):
        raise _Undecodable
    return bytes(out)


def _rewrite_body(body: bytes, call_probe: bytes) -> bytes:
    groups, at = _read_u32(body, 0)
    for _ in range(groups):
        _, at = _read_u32(body, at)
        if body[at] not in _VALTYPES:
            raise _Undecodable
        at += 1
    out = bytearray(body[:at])
    while at < len(body):
        start = at
        opcode = body[at]
        at += 1
        if opcode == 0x40:  # memory.grow memidx
            memory, at = _read_u32(body, at)
            if memory != 0:
                raise _Undecodable
            out += b"\x10" + call_probe
            continue
        at = _skip_immediates(body, at, opcode)
        out += body[start:at]
    return bytes(out)


def _skip_immediates(body: bytes, at: int, opcode: int) -> int:
    """The offset after `opcode`'s immediates (the opcode itself already read)."""
    if opcode in (0x02, 0x03, 0x04):  # block, loop, if: a block type
        if body[at] == 0x40 or body[at] in _VALTYPES:
            return at + 1
        return _skip_leb(body, at)
    if opcode in (0x0C, 0x0D, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2, 0x3F):
        return _skip_leb(body, at)
    if opcode in (0x11, 0x13):  # call_indirect, return_call_indirect: type, table
        return _skip_leb(body, _skip_leb(body, at))
    if opcode == 0x0E:  # br_table: vector of labels, default label
        count, at = _read_u32(body, at)
        for _ in range(count + 1):
            at = _skip_leb(body, at)
        return at
    if opcode == 0x1C:  # select with types
        count, at = _read_u32(body, at)
        return at + count
    if 0x28 <= opcode <= 0x3E:
        return _skip_memarg(body, at)
    if opcode in (0x41, 0x42):
        return _skip_leb(body, at)
    if opcode == 0x43:
        return at + 4
    if opcode == 0x44:
        return at + 8
    if opcode == 0xD0:  # ref.null reftype
        return at + 1
    if opcode == 0xFC:
        return _skip_misc(body, at)
    if opcode == 0xFD:
        return _skip_simd(body, at)
    if opcode in (0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1) or 0x45 <= opcode <= 0xC4:
        return at
    raise _Undecodable  # exceptions, GC, threads …: switched off in the engine, never in a valid module


def _skip_misc(body: bytes, at: int) -> int:
    sub, at = _read_u32(body, at)
    if sub <= 7:  # saturating truncations
        return at
    two = {8, 10, 12, 14}  # memory.init, memory.copy, table.init, table.copy
    one = {9, 11, 13, 15, 16, 17}  # data.drop, memory.fill, elem.drop, table.grow/size/fill
    if sub in two:
        return _skip_leb(body, _skip_leb(body, at))
    if sub in one:
        return _skip_leb(body, at)
    raise _Undecodable


def _skip_simd(body: bytes, at: int) -> int:
    sub, at = _read_u32(body, at)
    if sub <= 11 or sub in (92, 93):  # loads, store, load zero
        return _skip_memarg(body, at)
    if sub in (12, 13):  # v128.const, i8x16.shuffle
        return at + 16
    if 21 <= sub <= 34:  # extract/replace lane
        return at + 1
    if 84 <= sub <= 91:  # load/store lane
        return _skip_memarg(body, at) + 1
    if sub <= 0xFF:
        return at
    raise _Undecodable  # relaxed SIMD is switched off


def _skip_memarg(body: bytes, at: int) -> int:
    align, at = _read_u32(body, at)
    if align & 0x40:  # multi-memory: a memory index follows
        at = _skip_leb(body, at)
    return _skip_leb(body, at)


def _sections(module_bytes: bytes) -> list[tuple[int, bytes]]:
    if module_bytes[:8] != b"\0asm\x01\0\0\0":
        raise _Undecodable
    sections, at = [], 8
    while at < len(module_bytes):
        section_id = module_bytes[at]
        size, at = _read_u32(module_bytes, at + 1)
        if at + size > len(module_bytes):
            raise _Undecodable
        sections.append((section_id, module_bytes[at : at + size]))
        at += size
    return sections


def _vector(payload: bytes) -> tuple[int, bytes]:
    """A vector section's count and its items' bytes."""
    count, at = _read_u32(payload, 0)
    return count, payload[at:]


def _section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + _u32(len(payload)) + payload


def _read_u32(buffer: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(5):
        byte = buffer[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    raise _Undecodable


def _skip_leb(buffer: bytes, at: int) -> int:
    for _ in range(10):  # up to 64-bit
        byte = buffer[at]
        at += 1
        if not byte & 0x80:
            return at
    raise _Undecodable


def _u32(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
