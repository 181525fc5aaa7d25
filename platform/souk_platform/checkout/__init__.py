"""Carts and the checkout pipeline that turns a cart into an order (docs/architecture.md §5.2)."""
