"""Risk control (风控): one evaluation for every money- or points-moving action (docs/architecture.md §5.13)."""
