"""Python SDK for the Azure AI Speech "Speech to text" custom-models API (api-version 2025-10-15).

``SpeechToTextModels`` (and ``AsyncSpeechToTextModels``) list custom models with paging, Retry-After aware retries
and typed errors; the models are the generated ones, re-exported here.
"""

from speech_models_client.models import (
    CustomModel,
    CustomModelDeprecationDates,
    CustomModelFeatures,
    CustomModelLinks,
    CustomModelProperties,
    DetailedErrorCode,
    EntityError,
    EntityReference,
    Error,
    ErrorCode,
    InnerError,
    OutputFormatType,
    PaginatedCustomModels,
    Status,
)

from ._async_retry_transport import AsyncRetryTransport
from ._auth import AccessTokenLike, AsyncTokenCredentialLike, KeyCredentialLike, TokenCredentialLike
from ._client import AsyncSpeechToTextModels, SpeechToTextModels
from ._config import DEFAULT_API_VERSION, ENDPOINT_ENV, KEY_ENV
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    CredentialError,
    FieldValueError,
    InvalidResponseError,
    NextLinkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceError,
    SpeechModelsError,
)
from ._headers import parse_retry_after
from ._odata import odata_string
from ._paging import AsyncItemPaged, ItemPaged, Page
from ._retry import RetryEvent, RetryPolicy
from ._retry_transport import RetryTransport
from ._version import __version__

__all__ = [
    "DEFAULT_API_VERSION",
    "ENDPOINT_ENV",
    "KEY_ENV",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AccessTokenLike",
    "AsyncItemPaged",
    "AsyncRetryTransport",
    "AsyncSpeechToTextModels",
    "AsyncTokenCredentialLike",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "CredentialError",
    "CustomModel",
    "CustomModelDeprecationDates",
    "CustomModelFeatures",
    "CustomModelLinks",
    "CustomModelProperties",
    "DetailedErrorCode",
    "EntityError",
    "EntityReference",
    "Error",
    "ErrorCode",
    "FieldValueError",
    "InnerError",
    "InvalidResponseError",
    "ItemPaged",
    "KeyCredentialLike",
    "NextLinkError",
    "NotFoundError",
    "OutputFormatType",
    "Page",
    "PaginatedCustomModels",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
    "ServiceError",
    "SpeechModelsError",
    "SpeechToTextModels",
    "Status",
    "TokenCredentialLike",
    "__version__",
    "odata_string",
    "parse_retry_after",
]

# Show the public names as speech_models.X rather than speech_models._module.X (in reprs and tracebacks).
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("speech_models._"):
        _obj.__module__ = __name__
del _name, _obj
