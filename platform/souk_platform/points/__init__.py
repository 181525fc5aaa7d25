"""Loyalty points: earning, spending, refunds, revocation and expiry, kept in the ledger (unit PTS)."""
