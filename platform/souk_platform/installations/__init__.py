"""Apps installed on shops: install after consent, scope upgrades, uninstall (API and merchant pages)."""
