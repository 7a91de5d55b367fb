"""resim: Monte Carlo discrete-event model of rare-earth magnet supply risk for India's EV makers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("resim")  # one version number: pyproject.toml's
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
