;; Has a start function (code that would run at instantiation, outside `run`): rejected at upload.
(module
  (memory (export "memory") 1)
  (func $boot (i32.store (i32.const 0) (i32.const 42)))
  (start $boot)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0)))
