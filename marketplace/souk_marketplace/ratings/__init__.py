"""Ratings of apps by the shops that used them, with the developers' replies."""
