"""JSON over HTTP/1.1 with one kept-alive connection per thread (standard library only)."""
from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from typing import Any

from .errors import EspError, error_from_problem

# Answers that say "try again later" (sign-in limits, a busy password check).
_RETRY_STATUSES = {429, 503}
_MAX_RETRY_WAIT_S = 30


class Transport:
    """Sends requests to one espd base URL (`http://host:port` or `https://...`)."""

    def __init__(self, url: str, timeout: float, ca_file: str | None = None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"espd URL must be http://host[:port] or https://..., got {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_file) if self._https else None
        self._local = threading.local()

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            if self._https:
                connection = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                         context=self._ssl)
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection

    def _send(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> tuple[int, str, bytes, http.client.HTTPMessage]:
        # A kept-alive connection the server has closed fails on first use; every call
        # esp_client makes may be repeated (generation requests are idempotent), so it is
        # sent once more on a new connection.
        for attempt in range(2):
            connection = self._connection(fresh=attempt > 0)
            try:
                connection.request(method, self._prefix + path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                return response.status, response.reason, data, response.headers
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                connection.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             form: dict[str, str] | None = None, accept: str = "application/json") -> Any:
        """The decoded JSON answer (the bytes, for another `accept`); an EspError for
        any error status."""
        headers = {"Accept": accept}
        payload = None
        if form is not None:
            payload = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        waited = 0.0
        while True:
            status, reason, data, answer_headers = self._send(method, path, payload, headers)
            retry_after = answer_headers.get("Retry-After")
            if status in _RETRY_STATUSES and retry_after and retry_after.isdigit() \
                    and waited + int(retry_after) <= _MAX_RETRY_WAIT_S:
                time.sleep(int(retry_after))
                waited += int(retry_after)
                continue
            break
        if status >= 400:
            try:
                problem = json.loads(data) if data else None
            except ValueError:
                problem = None
            raise error_from_problem(status, problem, reason)
        if accept != "application/json":
            return data
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as error:
            raise EspError(status, "espd answered something that is not JSON", str(error)) from None
