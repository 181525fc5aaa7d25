"""Souk's developer kit: build, run and replay plugins with production limits; call the API."""
