;; Defines two tables (reference types allow it): rejected at upload, one table at most.
(module
  (memory (export "memory") 1)
  (table 1 funcref)
  (table 1 funcref)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64) (i64.const 0)))
