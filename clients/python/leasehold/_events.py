"""What the blocking and the asyncio watches share: the event, the Server-Sent Events messages, and where a
stream resumes (docs/events.md)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Tuple

# The server's keep-alive interval when its answer does not say (Leasehold:Events:KeepAliveSeconds' default).
DEFAULT_KEEP_ALIVE = 15.0

# Once watching, the pause between two tries to open a stream again while no server answers.
OUTAGE_PAUSE = 2.0


def quiet_pause(quiet: int) -> float:
    """The pause before a new stream when the last ``quiet`` streams in a row ended without an event (a server
    cutting every stream off as it stops): 50 ms, doubling, at most 2 s. None after a stream that brought one."""
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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and other.data == self.data

    def __hash__(self) -> int:
        return hash((self.revision, self.type))

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
        if self.last is None and not self.snapshot:
            # (With a snapshot asked for, a stream lost before it came must ask for it again, not for what follows.)
            start = headers.get("leasehold-revision", "")
            if start.isdigit():
                self.last = int(start)
        try:
            keep_alive = float(headers.get("leasehold-keep-alive", ""))
        except ValueError:
            keep_alive = DEFAULT_KEEP_ALIVE
        if not keep_alive > 0:
            keep_alive = DEFAULT_KEEP_ALIVE
        return 2 * keep_alive + 5

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
        if sse_id is not None and sse_id.isdigit():
            self.last = int(sse_id)
        if data.get("type") == "snapshot":
            # Had: a stream resumed from here needs the events after it only.
            self.snapshot = False
        return Event(data), False


__all__ = ["Event", "SseMessages", "WatchState", "OUTAGE_PAUSE", "quiet_pause"]
