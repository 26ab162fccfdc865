"""`make bench`: gridloop end to end under increasing load, beside its baselines, in one run."""
