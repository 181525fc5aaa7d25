;; Returns a pointer near 4 GiB with one page of memory: bad_output_pointer.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (i64.or (i64.shl (i64.const 0xFFFF0000) (i64.const 32)) (i64.const 16))))
