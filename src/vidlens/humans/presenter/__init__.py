"""Presenters: a digital human that reads a script, from one portrait (``vidlens humans speak``)."""
