"""A client library for accessing Speech Services API - Custom Models"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
