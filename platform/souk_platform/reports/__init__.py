"""Sales reports: trend, funnel, rankings and period-over-period, in the shop's timezone (no tables of its own)."""
