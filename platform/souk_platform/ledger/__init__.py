"""The double-entry ledger: points, stored value, merchant balances, and the kinds extensions register."""
