"""The Python client of Souk's API: typed methods per resource, retries, idempotency keys, typed errors.

::

    from souk_sdk import Client, NotFound

    with Client("https://souk.example", token="souk_at_…") as client:
        for product in client.products.iter(status="active"):
            print(product["title"], [sku["available"] for sku in product["skus"]])
        order = client.carts.checkout(cart_id, {"coupon_codes": ["JIUZHE"]})

Methods return the response JSON as plain dicts (typed as the TypedDicts of ``souk_sdk.api``).
A refused call raises a ``souk_sdk.problems.SoukError`` subclass. Calls refused with 429 or 503
are retried after ``Retry-After`` (or an exponential backoff with jitter); failed connections are
retried too, and a request that may have reached the server only when repeating it is safe.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from souk_sdk.api import ApiResources
from souk_sdk.problems import SoukError, error_from_response, parse_retry_after

__all__ = ["Client", "TokenSource"]

#: A token, or a function that returns a valid one for each request (see ``oauth.RefreshingToken``).
TokenSource = str | Callable[[], str]

_RETRY_STATUSES = frozenset({429, 503})
# Repeating these changes nothing more than sending them once did (RFC 9110 §9.2.2).
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The request never left this machine: repeating it is always safe.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_PATH_PARAM = re.compile(r"{([^}]+)}")
_USER_AGENT = "souk-sdk-python/0.1"


class Client(ApiResources):
    """A Souk API client for one base URL and one token; close it (or use ``with``) when done.

    ``base_url`` is the site (``https://souk.example``); ``/api/v1`` is part of each path.
    ``http`` lets you bring your own ``httpx.Client`` (a proxy, a test transport); it is then
    yours to close. ``sleep`` is called with each wait between retries (tests pass a fake).
    """

    def __init__(
        self,
        base_url: str,
        token: TokenSource | None = None,
        *,
        http: httpx.Client | None = None,
        max_retries: int = 3,
        timeout: float | httpx.Timeout = 30.0,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url.rstrip("/").removesuffix("/api/v1")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        #: A ``Retry-After`` longer than this is not waited for: the error is raised at once.
        self.max_retry_after = max_retry_after
        self._token = token
        self._timeout = timeout
        self._sleep = sleep
        self._random = random.Random()
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client()
        super().__init__(self)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (unless the ``httpx.Client`` was passed in)."""
        if self._owns_http:
            self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        auto_idempotency_key: bool = False,
        if_match: int | str | None = None,
        raw: bool = False,
    ) -> Any:
        """Call one operation and return its JSON (``None`` for an empty answer); raise ``SoukError`` if refused.

        ``path`` is a template such as ``/api/v1/products/{product_id}`` filled from
        ``path_params`` (each value URL-encoded). Query values that are ``None`` are left out.
        With ``auto_idempotency_key`` a random ``Idempotency-Key`` is sent when none is given;
        either way the same key goes with every retry of this call. ``raw`` returns the body's
        bytes (a file download) instead of parsed JSON.
        """
        method = method.upper()
        sent_headers = {"Accept": "*/*" if raw else "application/json", "User-Agent": _USER_AGENT}
        sent_headers.update({name: str(value) for name, value in (headers or {}).items() if value is not None})
        if idempotency_key is None and auto_idempotency_key:
            idempotency_key = str(uuid.uuid4())
        if idempotency_key is not None:
            sent_headers["Idempotency-Key"] = idempotency_key
        if if_match is not None:
            sent_headers["If-Match"] = f'"{if_match}"' if isinstance(if_match, int) else if_match
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent_headers["Content-Type"] = "application/json"
        response = self._send(
            method,
            self.base_url + _fill(path, path_params or {}),
            params=_query(query or {}),
            content=content,
            headers=sent_headers,
            repeatable=method in _IDEMPOTENT_METHODS or idempotency_key is not None,
        )
        if response.is_error:
            raise error_from_response(response)
        if raw:
            return response.content
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            problem = {"title": "The answer is not JSON", "detail": response.text[:500]}
            raise SoukError(problem, status=response.status_code, headers=response.headers) from None

    def iterate(
        self, path: str, *, path_params: Mapping[str, str] | None = None, query: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Yield every item of a paginated list, fetching the next page by ``next_cursor`` as needed."""
        cursor = None
        while True:
            page = self.request("GET", path, path_params=path_params, query={**(query or {}), "cursor": cursor})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str | int | float | bool | None]],
        content: bytes | None,
        headers: dict[str, str],
        repeatable: bool,
    ) -> httpx.Response:
        attempt = 0
        while True:
            token = self._token() if callable(self._token) else self._token
            if token:
                headers["Authorization"] = f"Bearer {token}"
            request = self._http.build_request(
                method, url, params=params, content=content, headers=headers, timeout=self._timeout
            )
            try:
                response = self._http.send(request)
            except httpx.TransportError as error:
                if attempt >= self.max_retries or not (repeatable or isinstance(error, _NOT_SENT)):
                    raise
                delay = self._backoff_delay(attempt)
            else:
                if response.status_code not in _RETRY_STATUSES or attempt >= self.max_retries:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > self.max_retry_after:
                    return response
                delay = self._backoff_delay(attempt) if retry_after is None else self._jittered(retry_after)
                response.close()
            self._sleep(delay)
            attempt += 1

    def _backoff_delay(self, attempt: int) -> float:
        """Exponential, capped, with half of it random so that many clients do not retry in step."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        spread: float = self._random.uniform(0, ceiling / 2)
        return ceiling / 2 + spread

    def _jittered(self, retry_after: float) -> float:
        # Never earlier than the server asked, and spread by up to 10 % (at most 1 s).
        spread: float = self._random.uniform(0, min(1.0, retry_after / 10))
        return retry_after + spread


def _fill(template: str, values: Mapping[str, str]) -> str:
    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        value = str(values[name])
        if value in ("", ".", ".."):
            raise ValueError(f"{name} must be an id, not {value!r}")
        return quote(value, safe="")

    return _PATH_PARAM.sub(value_of, template)


def _query(values: Mapping[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in values.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            elif isinstance(item, dt.date | dt.datetime):
                pairs.append((name, item.isoformat()))
            else:
                pairs.append((name, str(item)))
    return pairs
