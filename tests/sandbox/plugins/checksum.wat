;; Reads every input byte (work grows with the cart) and answers {"ok":true}: input in, small output out.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 16) "{\"ok\":true}")

  (func (export "alloc") (param $n i32) (result i32)
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
    (global.set $heap (local.get $end))
    (local.get $p))

  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (local $i i32)
    (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11))))
