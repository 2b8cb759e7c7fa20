"""Model files and loaded model sessions, in one place.

``registry`` finds and verifies files; ``catalog`` names every default model slot;
``runtime`` keeps loaded sessions once per process.
"""
