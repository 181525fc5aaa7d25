"""积分商城 — the points mall (docs/architecture.md §5.14)."""
