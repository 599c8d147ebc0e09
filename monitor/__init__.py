"""monitor: watch news feeds for alignment signals between states."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("monitor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
