"""Customer tags (manual, rule-based, imported) and segments, which share one condition language."""
