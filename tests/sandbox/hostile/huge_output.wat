;; Declares a 64 KiB output (all in bounds), above the 20 KiB limit: output_too_large.
(module
  (memory (export "memory") 2)
  (func (export "alloc") (param i32) (result i32) (i32.const 70000))
  (func (export "run") (param i32 i32) (result i64)
    (memory.fill (i32.const 0) (i32.const 32) (i32.const 65536))
    (i64.const 65536)))
