;; A well-behaved ABI v1 plugin: wraps its JSON input as {"echo": <input>}.
;; A bump allocator that grows memory on demand; `_initialize` resets the heap pointer.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 0))
  (data (i32.const 16) "{\"echo\":")

  (func (export "_initialize")
    (global.set $heap (i32.const 1024)))

  (func $alloc (export "alloc") (param $n i32) (result i32)
    (local $p i32)
    (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $ok
      (br_if $ok (i32.le_u (local.get $end) (i32.shl (memory.size) (i32.const 16))))
      (br_if $ok
        (i32.ne
          (memory.grow
            (i32.shr_u
              (i32.add (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16))) (i32.const 65535))
              (i32.const 16)))
          (i32.const -1)))
      (unreachable))
    (global.set $heap (i32.and (i32.add (local.get $end) (i32.const 7)) (i32.const -8)))
    (local.get $p))

  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (local $out i32)
    (local.set $out (call $alloc (i32.add (local.get $n) (i32.const 9))))
    (memory.copy (local.get $out) (i32.const 16) (i32.const 8))
    (memory.copy (i32.add (local.get $out) (i32.const 8)) (local.get $p) (local.get $n))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 8)) (local.get $n)) (i32.const 125))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
      (i64.extend_i32_u (i32.add (local.get $n) (i32.const 9))))))
