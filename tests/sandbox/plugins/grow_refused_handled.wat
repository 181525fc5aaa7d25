;; Asks for 300 pages, is refused, and answers {"big":false} instead of trapping: a plain ok.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"big\":false}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (drop (memory.grow (i32.const 300)))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 13))))
