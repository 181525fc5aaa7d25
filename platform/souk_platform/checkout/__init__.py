"""Carts and the checkout pipeline that turns a cart into an order (DESIGN.md §4)."""
