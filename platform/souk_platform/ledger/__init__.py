"""The double-entry ledger: points, stored value, merchant balances and (later) escrow and earnings."""
