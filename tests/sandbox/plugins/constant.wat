;; The trivial plugin of the benchmark: ignores its input and returns {"ok":true}.
(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\"ok\":true}")
  (func (export "alloc") (param $n i32) (result i32) (i32.const 1024))
  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11))))
