"""Deliver the warehouse change tables to Braze's /users/track (python -m sync ...)."""
