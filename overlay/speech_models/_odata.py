"""Building OData filters safely: a value becomes a string literal with its quotes doubled, so a display name
such as "O'Brien's model" neither breaks the filter nor changes its meaning."""

from __future__ import annotations

from ._errors import ConfigurationError

__all__ = ["odata_string"]


def odata_string(value: str) -> str:
    """``value`` as an OData string literal: in single quotes, every ``'`` doubled.

    >>> odata_string("O'Brien's model")
    "'O''Brien''s model'"
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"odata_string takes a string, not {type(value).__name__}")
    return "'" + value.replace("'", "''") + "'"
