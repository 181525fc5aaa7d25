"""Customers' behaviour events: what they viewed, searched, added to carts and where (docs/architecture.md §5.4)."""
