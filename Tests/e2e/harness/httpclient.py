"""HTTP GET with urllib, never through a proxy from the environment."""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, Optional

# ProxyHandler({}) disables http_proxy & co.; no redirects are followed either way that matters.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Response:
    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    @property
    def upstream(self) -> Optional[str]:
        """The name an `Upstream` put in its reply, if this came from one."""
        try:
            return self.json().get("upstream")
        except (ValueError, AttributeError):
            return None


def http_get(url: str, host_header: Optional[str] = None, timeout: float = 5.0,
             headers: Optional[Dict[str, str]] = None) -> Response:
    """GET `url`, with `Host: host_header` if given. HTTP error statuses are returned, not
    raised; connection failures raise (URLError / OSError)."""
    request = urllib.request.Request(url, method="GET")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if host_header is not None:
        # urllib keeps a caller's Host header instead of deriving it from the URL.
        request.add_header("Host", host_header)
    try:
        with _opener.open(request, timeout=timeout) as reply:
            return Response(reply.status, dict(reply.headers.items()), reply.read())
    except urllib.error.HTTPError as error:
        with error:
            return Response(error.code, dict(error.headers.items()), error.read())


def admin_get(url: str, timeout: float = 5.0) -> Response:
    return http_get(url, timeout=timeout)
