"""The refused-grow probe rewrites real code faithfully, and leaves alone what it cannot decode."""

from __future__ import annotations

import wasmtime

from souk_sandbox import Outcome, Runtime
from souk_sandbox._engine_config import EngineSettings, make_config
from souk_sandbox._grow_probe import GROW_REFUSED_EXPORT, add_grow_probe

# Every immediate shape the decoder must step over, with memory.grow nested in blocks, a loop and an if.
VARIED = r"""
(module
  (type $pair (func (param i32) (result i32 i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $double $triple)
  (global $g (mut i64) (i64.const -9007199254740993))
  (data (i32.const 16) "{\"grew\":1}")
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (local $i i32) (local $v v128) (local $f f64)
    (local.set $f (f64.add (f64.const 1.5) (f64.promote_f32 (f32.const 2.25))))
    (local.set $v (v128.const i32x4 1 2 3 4))
    (drop (i32x4.extract_lane 2 (local.get $v)))
    (v128.store offset=256 align=16 (i32.const 0) (local.get $v))
    (memory.fill (i32.const 512) (i32.const 7) (i32.const 8))
    (memory.copy (i32.const 600) (i32.const 512) (i32.const 8))
    (global.set $g (i64.add (global.get $g) (i64.const 1)))
    (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))
    (drop (ref.is_null (ref.null func)))
    (drop (call_indirect (param i32) (result i32) (i32.const 5) (i32.const 1)))
    (i32.const 8)
    (block $done (param i32) (result i32 i32)
      (i32.const 9) (br 0))
    (drop) (drop)
    (loop $again
      (block $b2 (block $b1 (block $b0
        (br_table $b0 $b1 $b2 (local.get $i)))
        (drop (memory.grow (i32.const 1))))
        (if (i32.eq (memory.grow (i32.const 0)) (i32.const -1)) (then unreachable)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 3))))
    (if (i32.ne (memory.size) (i32.const 2)) (then unreachable))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 10))))
"""


def _engine() -> wasmtime.Engine:
    return wasmtime.Engine(make_config(EngineSettings(pooling=False)))


def test_a_varied_module_is_probed_and_still_valid() -> None:
    original = bytes(wasmtime.wat2wasm(VARIED))
    probed = add_grow_probe(original)
    assert probed != original
    module = wasmtime.Module(_engine(), probed)  # wasmtime validates the rewrite
    assert GROW_REFUSED_EXPORT in [item.name for item in module.exports]


def test_the_probed_module_behaves_as_written() -> None:
    with Runtime(max_concurrent_calls=2) as runtime:
        result = runtime.load(bytes(wasmtime.wat2wasm(VARIED))).invoke({})
    assert result.outcome is Outcome.OK, result.message
    assert result.output == {"grew": 1}
    assert result.memory_bytes == 2 * 65536


def test_what_it_cannot_decode_is_left_unchanged() -> None:
    with_import = bytes(
        wasmtime.wat2wasm('(module (import "env" "f" (func)) (memory (export "memory") 1) (func (export "run")))')
    )
    assert add_grow_probe(with_import) == with_import
    assert add_grow_probe(b"\0asm\x01\0\0\0\x0a\x05garbage") == b"\0asm\x01\0\0\0\x0a\x05garbage"
