;; Over the 256 KiB module limit: the test appends a data segment of PADDING_BYTES to this template.
(module
  (memory (export "memory") 8)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0))
  (data (i32.const 0) "PADDING"))
