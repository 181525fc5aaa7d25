;; Asks for 32 MiB of initial memory, above the 16 MiB limit: rejected at upload.
(module
  (memory (export "memory") 512)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0)))
