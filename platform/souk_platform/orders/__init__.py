"""Orders, their state machine, payments through a provider adapter, and refunds."""
