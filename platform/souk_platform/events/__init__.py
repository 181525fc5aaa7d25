"""The outbox: every state change that matters writes an event row in the same transaction."""
