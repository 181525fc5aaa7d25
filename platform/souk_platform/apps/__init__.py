"""Apps: OAuth clients owned by developers, their versioned manifests, and installations on shops."""
