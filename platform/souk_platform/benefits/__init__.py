"""权益: benefit packages and their grants (docs/architecture.md §5.10)."""
