"""Journeys (营销画布): docs/architecture.md §5.12."""
