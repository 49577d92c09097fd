"""quantdesk: data, features, models, backtests and risk-checked decisions for a quant desk."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("quantdesk")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
