"""App listings: submissions with automated checks, the admins' review queue, and the public market."""
