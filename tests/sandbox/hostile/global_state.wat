;; Counts its calls in a global and returns {"calls":N}, expecting N to grow from call to call. It must
;; not: every call gets a fresh instance, so N is 1 every time.
(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 16) "{\"calls\":0}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    ;; byte 25 is the digit: '0' + min(calls, 9)
    (i32.store8 (i32.const 25)
      (i32.add (i32.const 48)
        (select (global.get $calls) (i32.const 9) (i32.le_u (global.get $calls) (i32.const 9)))))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11))))
