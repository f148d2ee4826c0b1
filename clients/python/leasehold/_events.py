"""What the blocking and the asyncio watches share: the event, the Server-Sent Events messages, and where a
stream resumes (docs/events.md)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ._common import MAX_REDIRECTS, REDIRECTS, ServerList, redirect_refused, transport_failure_message
from ._errors import Unreachable, from_problem

# The server's keep-alive interval when its answer does not say (Leasehold:Events:KeepAliveSeconds' default).
DEFAULT_KEEP_ALIVE = 15.0

# Once watching, the pause between two tries to open a stream again while no server answers.
OUTAGE_PAUSE = 2.0

# Bounds on what a server's headers may ask of a watch: its keep-alive interval, a 503's Retry-After (seconds).
MAX_KEEP_ALIVE = 3600.0
MAX_ASKED_PAUSE = 60.0


def quiet_pause(quiet: int) -> float:
    """The pause before a new stream when the last ``quiet`` streams in a row ended without an event (a server
    cutting every stream off as it stops): 50 ms, doubling, at most 2 s; 0 after a stream that brought one."""
    return 0.0 if quiet == 0 else min(0.05 * (1 << min(quiet - 1, 6)), OUTAGE_PAUSE)


class Event:
    """One message of a watch: a change under the prefix, or a ``snapshot`` / ``reset`` (docs/events.md).

    ``data`` is the JSON object exactly as the server sent it; the properties read its usual fields and are
    None when the event has no such field. Types and fields this client does not know come through too:
    ignore them."""

    __slots__ = ("data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        self.data = data

    @property
    def revision(self) -> int:
        return int(self.data.get("revision", 0))

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def at(self) -> Optional[str]:
        """When the command that caused it was applied (ISO 8601 with offset)."""
        return self.data.get("at")

    @property
    def is_reset(self) -> bool:
        """The server no longer had every event you missed: drop what you knew, a ``snapshot`` follows."""
        return self.type == "reset"

    @property
    def is_snapshot(self) -> bool:
        return self.type == "snapshot"

    @property
    def lease(self) -> Optional[Dict[str, Any]]:
        return self.data.get("lease")

    @property
    def waiter(self) -> Optional[Dict[str, Any]]:
        return self.data.get("waiter")

    @property
    def session(self) -> Optional[Dict[str, Any]]:
        return self.data.get("session")

    @property
    def path(self) -> Optional[str]:
        return self.data.get("path")

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason")

    @property
    def attributes(self) -> Optional[Dict[str, Any]]:
        return self.data.get("attributes")

    @property
    def held(self) -> Optional[float]:
        """Seconds a released lease was held."""
        return self.data.get("held")

    @property
    def waited(self) -> Optional[float]:
        """Seconds a granted request waited."""
        return self.data.get("waited")

    @property
    def holders(self) -> List[Dict[str, Any]]:
        """A snapshot's leases."""
        return list(self.data.get("holders") or [])

    @property
    def queue(self) -> List[Dict[str, Any]]:
        """A snapshot's waiters."""
        return list(self.data.get("queue") or [])

    @property
    def resources(self) -> List[Dict[str, Any]]:
        """A snapshot's declared resources (``path``, ``attributes``)."""
        return list(self.data.get("resources") or [])

    @property
    def paths(self) -> List[str]:
        """The paths it is about: its lease's or waiter's, or its own ``path``."""
        subject = self.lease or self.waiter
        if subject is not None:
            return list(subject.get("paths") or [])
        return [self.path] if self.path else []

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __repr__(self) -> str:
        return "Event(%s, revision=%d, paths=%r)" % (self.type, self.revision, self.paths)


class SseMessages:
    """Cuts a stream's lines into its messages: ``feed`` each line, a message comes back at the blank line that
    ends it as ``(id or None, data)``; comments (the keep-alives) and other fields give nothing."""

    def __init__(self) -> None:
        self._id: Optional[str] = None
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[Tuple[Optional[str], str]]:
        line = line.rstrip("\r\n")
        if not line:
            message = (self._id, "\n".join(self._data)) if self._data else None
            self._id, self._data = None, []
            return message
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


class WatchState:
    """Where a watch is: what it asks for, and the last revision it was given, which a new stream resumes after."""

    def __init__(self, prefix: str, snapshot: bool, after: Optional[int]) -> None:
        if not prefix.startswith("/"):
            raise ValueError("a watch's prefix starts with / (got %r)" % prefix)
        if after is not None and after < 0:
            raise ValueError("after is a revision, 0 or more (got %r)" % after)
        self.prefix = prefix
        self.snapshot = snapshot
        self.last = after
        self._messages = SseMessages()
        # Set by stop(), from any thread; the socket a blocking stream reads, shut down by it.
        self.stopped = threading.Event()
        self._socket: Optional[socket.socket] = None
        self._lock = threading.Lock()

    def reading(self, sock: Optional[socket.socket]) -> None:
        """The blocking transport's current socket (None between streams): ``stop`` shuts it down."""
        with self._lock:
            self._socket = sock
        if sock is not None and self.stopped.is_set():
            _shut(sock)

    def stop(self) -> None:
        """Ends the watch from any thread: a read waiting on the stream returns at once, and no stream follows."""
        self.stopped.set()
        with self._lock:
            sock = self._socket
        if sock is not None:
            _shut(sock)

    def target(self) -> str:
        """The request's path and query: after the last revision seen, once there is one."""
        query = [("prefix", self.prefix)]
        if self.snapshot:
            query.append(("snapshot", "true"))
        if self.last is not None:
            query.append(("after", str(self.last)))
        return "/v1/events?" + urllib.parse.urlencode(query, safe="/")

    def opened(self, headers: Mapping[str, str]) -> float:
        """A stream began (``headers`` lower-cased): remembers where it starts, and says how long it may stay
        silent before it counts as lost (twice the server's keep-alive interval and 5 s more)."""
        self._messages = SseMessages()
        if self.last is None and not self.snapshot:
            # (With a snapshot asked for, a stream lost before it came must ask for it again, not for what follows.)
            start = headers.get("leasehold-revision", "")
            if start.isdecimal():
                self.last = int(start)
        try:
            keep_alive = float(headers.get("leasehold-keep-alive", ""))
        except ValueError:
            keep_alive = DEFAULT_KEEP_ALIVE
        if not keep_alive > 0:
            keep_alive = DEFAULT_KEEP_ALIVE
        keep_alive = min(keep_alive, MAX_KEEP_ALIVE)
        return 2 * keep_alive + 5

    def read(self, line: bytes) -> Tuple[Optional[Event], bool]:
        """One line of the stream: the event it completes (None for nothing yet), and whether the server cut the
        stream off."""
        message = self._messages.feed(line.decode("utf-8", "replace"))
        return (None, False) if message is None else self.take(message)

    def take(self, message: Tuple[Optional[str], str]) -> Tuple[Optional[Event], bool]:
        """One message: the event to hand out (None for nothing), and whether the server cut the stream off."""
        sse_id, text = message
        try:
            data = json.loads(text)
        except ValueError:
            return None, False
        if not isinstance(data, dict):
            return None, False
        if data.get("type") == "cut-off":
            return None, True
        if sse_id is not None and sse_id.isdecimal():
            self.last = int(sse_id)
        if data.get("type") == "snapshot":
            # Had: a stream resumed from here needs the events after it only.
            self.snapshot = False
        return Event(data), False


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


class Reconnects:
    """How a watch goes from stream to stream, for both transports: the pause before the next try, which server it
    goes to, and when it gives up. Opening the first stream follows the retries as any request does; once watching,
    a lost stream is followed at once by one on the next server, an outage is waited out with a try every 2 s (or what
    a 503's Retry-After asks), and streams that end without an event are opened again more and more slowly."""

    def __init__(
        self,
        servers: ServerList,
        may_retry: Callable[[int, float], bool],
        backoff: Callable[[int, Optional[float], float], float],
    ) -> None:
        self._servers = servers
        self._may_retry = may_retry
        self._backoff = backoff
        self.watching = False
        self._failures = 0  # tries in a row that opened no stream
        self._quiet = 0  # streams in a row that ended without an event
        self._first_failure: Optional[float] = None
        self._asked: Optional[float] = None
        self._redirects = 0  # redirects followed in a row

    def pause(self) -> float:
        if self._failures > 0:
            if self.watching:
                return min(self._asked, MAX_ASKED_PAUSE) if self._asked else OUTAGE_PAUSE
            return self._backoff(self._failures - 1, self._asked, self._first_failure or time.monotonic())
        return quiet_pause(self._quiet)

    def refused(self, status: int, problem: Dict[str, Any], server: str, index: int, location: Optional[str] = None) -> None:
        """A stream's answer other than 200: raises its typed exception, unless it is a 503 to try again or a
        follower's redirect to the leader (one of ours), which is followed at once."""
        if status in REDIRECTS:
            self._redirects += 1
            if self._redirects > MAX_REDIRECTS or not self._servers.follow_leader(location):
                raise redirect_refused(status, location, server)
            return
        self._first_failure = self._first_failure or time.monotonic()
        if status != 503 or not (self.watching or self._may_retry(self._failures, self._first_failure)):
            raise from_problem(status, problem, server)
        if problem.get("code") in ("no-leader", "shutting-down"):
            self._servers.move_on(index)
        self._failures += 1
        self._asked = problem.get("_retryAfter")

    def opened(self, leader: Optional[str] = None) -> None:
        """A stream is open; ``leader``: the leader a follower that forwards it named, where the next stream goes."""
        self.watching = True
        self._failures, self._first_failure, self._asked, self._redirects = 0, None, None, 0
        self._servers.follow_leader(leader)

    def handed_out(self) -> None:
        """A stream brought an event: it was not a quiet one."""
        self._quiet = 0

    def lost(self, error: BaseException, opened: bool, server: str, index: int) -> None:
        """The connection failed (before its answer, or during the stream): the next try goes to the next server.
        Raises ``Unreachable`` when no stream was ever opened and the retries are spent."""
        if not opened:
            self._first_failure = self._first_failure or time.monotonic()
            if not self.watching and not self._may_retry(self._failures, self._first_failure):
                raise Unreachable(transport_failure_message(self._servers.servers, error), server=server) from error
            self._failures += 1
            self._asked = None
        self._servers.move_on(index)

    def ended(self, opened: bool, handed_out: bool) -> None:
        if opened and not handed_out:
            self._quiet += 1


__all__ = ["Event", "WatchState", "Reconnects"]
