"""Message channels, templates and messages (docs/architecture.md §5.11)."""
