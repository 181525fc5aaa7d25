;; Asks for 300 pages (~19 MiB) at once from 1 page: refused (-1), then traps far below the limit.
;; Ends as memory_limit: the refused grow, not the size reached, is what counts.
(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param i32 i32) (result i64)
    (if (i32.eq (memory.grow (i32.const 300)) (i32.const -1))
      (then (unreachable)))
    (i64.const 0)))
