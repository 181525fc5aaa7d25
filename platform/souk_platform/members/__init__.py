"""Member levels V1–V5: per-shop upgrade/keep rules, evaluation and level history."""
