"""What the blocking and the asyncio clients share: settings, request bodies, answers, failover state."""

from __future__ import annotations

import json
import os
import secrets
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._errors import LeaseholdError

DEFAULT_SERVER = "http://127.0.0.1:8765"
USER_AGENT = "leasehold-python/0.1"
MAX_SERVERS = 16

Requirement = Union[str, Mapping[str, Any], None]


@dataclass(frozen=True)
class Group:
    """One group of a pool request: ``count`` free resources under ``pool`` matching ``require``
    (a MongoDB-style query as a dict, or py-lockable's ``k=v&k2=v2`` string)."""

    pool: str
    require: Requirement = None
    count: int = 1


@dataclass(frozen=True)
class Resource:
    """A resource a pool lease was given: its path, which group it serves, its declared attributes."""

    path: str
    group: int
    attributes: Dict[str, Any]

    @property
    def id(self) -> Any:
        """The ``id`` attribute (py-lockable's resource id), else the last segment of the path."""
        return self.attributes.get("id", self.path.rsplit("/", 1)[-1])

    def get(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)


@dataclass
class Settings:
    """How to reach the server(s); shared by ``Client`` and ``AsyncClient``."""

    servers: List[str]
    api_key: Optional[str] = None
    owner: Optional[str] = None
    session_ttl: float = 15.0
    retries: int = 3
    retry_timeout: float = 15.0
    connect_timeout: float = 5.0
    timeout: float = 30.0
    ssl_context: Optional[ssl.SSLContext] = None


def parse_servers(servers: Union[str, Sequence[str], None]) -> List[str]:
    """The server list: the argument, else ``$LEASEHOLD_SERVER`` (a comma-separated list), else
    ``http://127.0.0.1:8765``. Each must be an ``http://`` or ``https://`` URL (this client speaks HTTP);
    a trailing ``/`` is dropped, a path (a reverse proxy's prefix) is kept."""
    if servers is None:
        servers = os.environ.get("LEASEHOLD_SERVER") or DEFAULT_SERVER
    items = [s.strip() for s in servers.split(",")] if isinstance(servers, str) else [str(s).strip() for s in servers]
    result: List[str] = []
    for item in items:
        if not item:
            continue
        parts = urllib.parse.urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "a Leasehold server for the Python client is an http:// or https:// URL, not %r "
                "(the native leasehold:// protocol is spoken by the .NET client and the CLI only)" % item
            )
        result.append(item.rstrip("/"))
    if not result:
        raise ValueError("no Leasehold server given")
    if len(result) > MAX_SERVERS:
        raise ValueError("at most %d servers" % MAX_SERVERS)
    return result


def make_ssl_context(ca_file: Optional[str], cert_file: Optional[str], key_file: Optional[str]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    return context


def new_idempotency_key() -> str:
    """32 random characters of ``A-Z a-z 0-9 - _`` (192 bits), as secret as a token."""
    return secrets.token_urlsafe(24)


def encode_path(path: str) -> str:
    """``/lab/a b`` as ``/lab/a%20b``: each segment escaped on its own."""
    segments = [urllib.parse.quote(s, safe="") for s in path.split("/") if s]
    return "/" + "/".join(segments)


def _require(require: Requirement) -> Any:
    if require is None:
        return None
    if isinstance(require, str):
        text = require.strip()
        if not text:
            return None
        # A JSON query passes as an object; a k=v&... string as it is (the server parses it).
        return json.loads(text) if text.startswith("{") else text
    return dict(require)


def _group(group: Group) -> Dict[str, Any]:
    out: Dict[str, Any] = {"pool": group.pool, "count": group.count}
    req = _require(group.require)
    if req is not None:
        out["require"] = req
    return out


def acquire_body(
    path: Union[str, Sequence[str], None],
    *,
    pool: Optional[str],
    require: Requirement,
    count: Optional[int],
    groups: Optional[Sequence[Group]],
    shared: bool,
    limit: Optional[int],
    ttl: Optional[float],
    wait: float,
    owner: Optional[str],
    session: Optional[int],
    lock_parents: bool,
    lock_children: bool,
    reuse: bool,
) -> Dict[str, Any]:
    """The JSON body of ``POST /v1/leases`` (without its idempotency key)."""
    chosen = [path is not None, pool is not None, bool(groups)]
    if sum(chosen) != 1:
        raise ValueError("give one of: a path (or a list of paths), pool= (with require=), or groups=")
    body: Dict[str, Any] = {}
    if isinstance(path, str):
        body["path"] = path
    elif path is not None:
        paths = list(path)
        if not paths:
            raise ValueError("an empty list of paths")
        body["paths"] = paths
    elif pool is not None:
        body["pool"] = pool
        req = _require(require)
        if req is not None:
            body["require"] = req
        if count is not None:
            body["count"] = count
    else:
        body["groups"] = [_group(g) for g in groups or ()]
    if (pool is None and not groups) and (require is not None or count is not None):
        raise ValueError("require= and count= go with pool=")
    if shared:
        body["mode"] = "shared"
    if limit is not None:
        body["limit"] = limit
    if ttl is not None:
        body["ttl"] = ttl
    if wait:
        body["wait"] = wait
    if owner is not None:
        body["owner"] = owner
    if session is not None:
        body["session"] = session
    if not lock_parents:
        body["lockParents"] = False
    if not lock_children:
        body["lockChildren"] = False
    if reuse:
        body["reuse"] = True
    return body


def resources_of(lease: Mapping[str, Any]) -> List[Resource]:
    out: List[Resource] = []
    for r in lease.get("resources") or ():
        out.append(Resource(str(r.get("path")), int(r.get("group") or 0), dict(r.get("attributes") or {})))
    return out


def retry_after(headers: Mapping[str, str]) -> Optional[float]:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def backoff(attempt: int, asked: Optional[float], left: float) -> float:
    """The pause before the next try: 100 ms, 200 ms, 400 ms ... or what ``Retry-After`` asked, never past the retry timeout."""
    pause = 0.1 * (1 << min(attempt, 6))
    if asked is not None and asked > pause:
        pause = asked
    return max(0.0, min(pause, left))


@dataclass
class Answer:
    """One HTTP answer, its body parsed."""

    status: int
    headers: Dict[str, str]
    body: Any
    server: str

    @property
    def problem(self) -> Optional[Dict[str, Any]]:
        if self.status < 400:
            return None
        body = self.body if isinstance(self.body, dict) else {}
        problem = dict(body)
        problem.setdefault("code", "http-%d" % self.status)
        after = retry_after(self.headers)
        if after is not None:
            problem["_retryAfter"] = after
        return problem


def parse_body(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {"detail": data[:500].decode("utf-8", "replace")}


def request_headers(settings: Settings, host: str, body: Optional[bytes], token: Optional[str]) -> Dict[str, str]:
    headers = {"Host": host, "User-Agent": USER_AGENT, "Accept": "application/json", "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(body))
    elif token is not None:
        headers["Content-Length"] = "0"
    if token is not None:
        headers["Leasehold-Token"] = token
    if settings.api_key:
        headers["Authorization"] = "Bearer " + settings.api_key
    return headers


@dataclass
class ServerList:
    """Which server requests go to; moved on by failures and by a follower naming the leader."""

    servers: List[str]
    current: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self) -> Tuple[int, str]:
        with self._lock:
            return self.current, self.servers[self.current]

    def move_on(self, failed: int) -> None:
        with self._lock:
            if self.current == failed:
                self.current = (failed + 1) % len(self.servers)

    def follow_leader(self, leader: Optional[str]) -> bool:
        """A cluster follower answered and named the leader (``Leasehold-Leader``), or sent the request there (a
        ``307``'s ``Location``): go there when it is one of ours, never elsewhere, so credentials are not sent to a
        server the user did not list. Whether it is one of ours."""
        if not leader:
            return False
        wanted = _origin(leader)
        with self._lock:
            for i, s in enumerate(self.servers):
                if _origin(s) == wanted:
                    self.current = i
                    return True
        return False


# A follower redirects (307) a caller named by its client certificate to the leader, since the certificate cannot
# travel with a forwarded request; a request follows at most this many redirects.
REDIRECTS = (307, 308)
MAX_REDIRECTS = 3


def redirect_refused(status: int, location: Optional[str], server: str) -> LeaseholdError:
    """The error for a redirect the client does not follow: to a server not among those given, or one too many."""
    return LeaseholdError(
        "the server at %s sent the request to %s (a cluster follower sends a caller named by its client certificate "
        "to the leader); give the client every node of the cluster so that it may follow" % (server, location or "nowhere"),
        code="http-%d" % status,
        status=status,
        server=server,
    )


def _origin(url: str) -> Tuple[str, str, Optional[int]]:
    p = urllib.parse.urlsplit(url)
    port = p.port or (443 if p.scheme == "https" else 80)
    return (p.scheme.lower(), (p.hostname or "").lower(), port)


def host_header(scheme: str, host: str, port: int) -> str:
    """The ``Host`` header: an IPv6 address in brackets (``[::1]:8765``), the port left out when it is the scheme's own."""
    name = "[%s]" % host if ":" in host else host
    return name if port == (443 if scheme == "https" else 80) else "%s:%d" % (name, port)


def split_server(server: str) -> Tuple[str, str, int, str]:
    """(scheme, host, port, path prefix) of a base URL."""
    p = urllib.parse.urlsplit(server)
    port = p.port or (443 if p.scheme == "https" else 80)
    return p.scheme, p.hostname or "", port, p.path.rstrip("/")


def transport_failure_message(servers: Sequence[str], error: BaseException) -> str:
    where = servers[0] if len(servers) == 1 else "any of " + ", ".join(servers)
    return "cannot reach the Leasehold server at %s: %s" % (where, error or type(error).__name__)
