"""Shops (tenants) and their staff."""
