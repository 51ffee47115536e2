from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.paginated_custom_models import PaginatedCustomModels
from ...types import UNSET, Response


def _get_kwargs(
    *,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["skip"] = skip

    params["top"] = top

    params["filter"] = filter_

    params["api-version"] = api_version

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/speechtotext/models",
        "params": params,
    }

    return _kwargs


def request_kwargs(
    *,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.build_request`` for this operation (method, url, params, headers):
    for a caller that builds and sends the request itself."""
    return _get_kwargs(
        skip=skip,
        top=top,
        filter_=filter_,
        api_version=api_version,
    )


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | PaginatedCustomModels | None:
    try:
        return _parse_body(client=client, response=response)
    except (ValueError, RecursionError, errors.InvalidResponseError):  # JSONDecodeError is a ValueError
        return None


def _parse_body(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | PaginatedCustomModels:
    if response.status_code == 200:
        response_200 = PaginatedCustomModels.from_dict(response.json())

        return response_200

    response_default = Error.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | PaginatedCustomModels]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> Response[Error | PaginatedCustomModels]:
    """Gets the list of custom models for the authenticated subscription.

     Gets the list of custom models for the authenticated subscription.

    Args:
        skip (int | None):
        top (int | None):
        filter_ (str | None):
        api_version (str):  Default: '2025-10-15'. Example: 2025-10-15.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PaginatedCustomModels]
    """

    kwargs = _get_kwargs(
        skip=skip,
        top=top,
        filter_=filter_,
        api_version=api_version,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> Error | PaginatedCustomModels | None:
    """Gets the list of custom models for the authenticated subscription.

     Gets the list of custom models for the authenticated subscription.

    Args:
        skip (int | None):
        top (int | None):
        filter_ (str | None):
        api_version (str):  Default: '2025-10-15'. Example: 2025-10-15.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PaginatedCustomModels
    """

    return sync_detailed(
        client=client,
        skip=skip,
        top=top,
        filter_=filter_,
        api_version=api_version,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> Response[Error | PaginatedCustomModels]:
    """Gets the list of custom models for the authenticated subscription.

     Gets the list of custom models for the authenticated subscription.

    Args:
        skip (int | None):
        top (int | None):
        filter_ (str | None):
        api_version (str):  Default: '2025-10-15'. Example: 2025-10-15.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | PaginatedCustomModels]
    """

    kwargs = _get_kwargs(
        skip=skip,
        top=top,
        filter_=filter_,
        api_version=api_version,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    skip: int | None = None,
    top: int | None = None,
    filter_: str | None = None,
    api_version: str = "2025-10-15",
) -> Error | PaginatedCustomModels | None:
    """Gets the list of custom models for the authenticated subscription.

     Gets the list of custom models for the authenticated subscription.

    Args:
        skip (int | None):
        top (int | None):
        filter_ (str | None):
        api_version (str):  Default: '2025-10-15'. Example: 2025-10-15.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | PaginatedCustomModels
    """

    return (
        await asyncio_detailed(
            client=client,
            skip=skip,
            top=top,
            filter_=filter_,
            api_version=api_version,
        )
    ).parsed
