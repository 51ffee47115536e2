"""Errors of the generated client: the root of the SDK's error tree and what reading a model can raise."""

from __future__ import annotations

import pickle
from typing import Any


def _restore(cls: type[SpeechModelsError], args: tuple[Any, ...], fields: dict[str, Any]) -> SpeechModelsError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(fields)
    return error


def _picklable(value: Any) -> Any:
    try:
        pickle.dumps(value)
    except Exception:  # whatever a field's own pickling raises, the error still crosses
        return None
    return value


class SpeechModelsError(Exception):
    """Base of every failure of a call to the service, and of every value read from its answer.

    ``continuation_token`` is set when the failure happened while fetching a page of a listing: pass it back to
    resume at that very page (``None`` means the first page).
    """

    continuation_token: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by fields, not by constructor arguments (each subclass takes its own), so an error crosses a
        process boundary (a ``ProcessPoolExecutor`` worker) whole; a field that cannot be pickled becomes ``None``."""
        fields = {name: _picklable(value) for name, value in self.__dict__.items()}
        return (_restore, (type(self), self.args, fields))


class InvalidResponseError(SpeechModelsError):
    """A successful response whose body is not what the contract promises (not JSON, not a page, or a value of
    the wrong type); ``response`` and ``request_id`` are set when the page itself was refused."""

    request_id: str | None = None

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class FieldValueError(InvalidResponseError, TypeError):
    """A field of a model holds a JSON value of another type than the spec gives; raised when the field is read,
    so the model's other fields, and the other models of its page, stay readable.

    Attributes:
        model: the model's class name.
        path: where the value sits in the JSON that was parsed, such as ``values[3].createdDateTime``.
        expected: what the spec allows there.
        found: the value found.
    """

    def __init__(self, model: str, path: str, expected: str, found: object) -> None:
        shown = repr(found)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{model}: {path} should be {expected}, found {shown} ({type(found).__name__})")
        self.model = model
        self.path = path
        self.expected = expected
        self.found = found


class UnexpectedStatus(SpeechModelsError):
    """Raised by api functions when the response status is an undocumented one and
    Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


__all__ = ["FieldValueError", "InvalidResponseError", "SpeechModelsError", "UnexpectedStatus"]
