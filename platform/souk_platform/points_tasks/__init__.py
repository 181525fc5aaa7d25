"""Points operations (docs/architecture.md §5.15): earning tasks, daily sign-in, their completions."""
