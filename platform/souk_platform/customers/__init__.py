"""Customers of a shop, and the purchase facts member levels, tags and segments are computed from."""
