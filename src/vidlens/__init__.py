"""VidLens: self-hosted video AI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vidlens")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
