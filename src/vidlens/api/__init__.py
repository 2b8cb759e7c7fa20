"""The HTTP API and web UI (``vidlens serve``): the ``serve`` capability.

This package stays import-light: capability discovery imports ``api.capability`` and
``api.settings`` in every command, so FastAPI is only imported by ``vidlens.api.app``
when a server or test builds the app.
"""
