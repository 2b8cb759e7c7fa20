"""Web UI: Jinja2 templates, static CSS/JS and the page routes (``pages.install``)."""
