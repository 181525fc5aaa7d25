"""Stored value (储值金): top-ups, spending on orders, refunds, and order cashback credited into it."""
