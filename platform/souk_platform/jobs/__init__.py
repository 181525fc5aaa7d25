"""Background work: one interface, two wirings (in-process thread embedded; Redis + rq in production)."""
