"""Python SDK for the Azure AI Speech custom-models API."""

from ._version import __version__

__all__ = ["__version__"]
