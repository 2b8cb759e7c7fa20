"""Helpers for tests and plugin examples: synthetic clips made with PyAV."""
