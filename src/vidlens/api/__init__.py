"""The HTTP API and web UI (``vidlens serve``).

This package stays import-light: ``vidlens.settings`` imports ``api.settings``, so
FastAPI is only imported by ``vidlens.api.app`` when a server or test builds the app.
"""
