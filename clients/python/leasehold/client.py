"""The blocking client: ``Client``, ``Lease``, ``Session`` and the module-level ``lease()``."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from ._common import (
    Group,
    Requirement,
    Resource,
    Settings,
    acquire_body,
    encode_path,
    make_ssl_context,
    new_idempotency_key,
    parse_servers,
    resources_of,
)
from ._events import Event, WatchState
from ._errors import Forbidden, InvalidToken, LeaseholdError, Locked, NotFound, Unreachable
from ._http import Transport

log = logging.getLogger("leasehold")

Paths = Union[str, Sequence[str], None]


class _LostSignal:
    """An event that is set once, with callbacks run when it is (on the thread that noticed the loss)."""

    def __init__(self, subject: Any) -> None:
        self._subject = subject
        self.event = threading.Event()
        self._callbacks: List[Callable[[Any], None]] = []
        self._lock = threading.Lock()
        self.cancelled = False

    def add(self, callback: Callable[[Any], None]) -> None:
        with self._lock:
            fired = self.event.is_set()
            if not fired:
                self._callbacks.append(callback)
        if fired:
            self._run(callback)

    def fire(self) -> None:
        with self._lock:
            if self.event.is_set() or self.cancelled:
                return
            self.event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._run(callback)

    def cancel(self) -> None:
        """Released on purpose: the signal never fires after this."""
        with self._lock:
            self.cancelled = True
            self._callbacks = []

    def _run(self, callback: Callable[[Any], None]) -> None:
        try:
            callback(self._subject)
        except Exception:  # the callback's owner's business, not the keep-alive's
            log.exception("a lost-lease callback raised")


class _TooLate(Exception):
    """A keep-alive still had no answer when the lease's lifetime ran out."""


class _Keeper(threading.Thread):
    """Keeps a lease or session alive: ``beat`` every third of ``lifetime``, a failed one retried after a sixth.
    Declares it lost when the server says it is gone (``beat`` returns False, or raises ``NotFound`` /
    ``InvalidToken``), or when no beat got through for ``lifetime`` counted from when the last good one was
    *sent*: no later than the server could end it. With ``beat`` None it only waits for that deadline."""

    def __init__(
        self,
        name: str,
        lifetime: float,
        alive_since: float,
        beat: Optional[Callable[[float], bool]],
        on_lost: Callable[[], None],
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._lifetime = lifetime
        self._alive = alive_since
        self._beat = beat
        self._on_lost = on_lost
        self._halt = threading.Event()

    @property
    def alive_since(self) -> float:
        return self._alive

    def run(self) -> None:
        period = self._lifetime / 3
        next_beat = self._alive + period
        while True:
            now = time.monotonic()
            deadline = self._alive + self._lifetime
            if now >= deadline:
                self._lost()
                return
            wake = deadline if self._beat is None else min(next_beat, deadline)
            if self._halt.wait(max(0.0, wake - now)):
                return
            if self._beat is None or time.monotonic() < next_beat or time.monotonic() >= deadline:
                continue
            sent = time.monotonic()
            try:
                held = self._beat_until(deadline)
            except _TooLate:
                self._lost()
                return
            except (NotFound, InvalidToken):
                self._lost()
                return
            except Exception as error:  # unreachable or failing for now: try again soon
                log.debug("keep-alive failed: %s", error)
                next_beat = time.monotonic() + period / 2
                continue
            if not held:
                self._lost()
                return
            self._alive = sent
            next_beat = sent + period

    def _beat_until(self, deadline: float) -> bool:
        """``beat`` on a thread of its own, waited for no later than ``deadline``: the socket timeouts bound each read,
        not the whole call, so an answer trickling in (or a slow connect, then a slow answer) could otherwise hold
        the loss back past the moment the server may end the lease. A beat left behind ends by its own timeouts."""
        assert self._beat is not None
        beat = self._beat
        outcome: Dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["held"] = beat(deadline)
            except BaseException as error:  # handed to the keeper's thread
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=run, name=self.name + "-beat", daemon=True).start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise _TooLate()
        if "error" in outcome:
            raise outcome["error"]
        return bool(outcome["held"])

    def _lost(self) -> None:
        if not self._halt.is_set():
            self._on_lost()

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            # A keep-alive in flight ends by its own timeout; do not hold the caller for it.
            self.join(timeout=0.5)


class Lease:
    """A granted lease. While it is held it is kept alive in the background (renewed every ttl/3, or
    through its session); ``release()`` (or leaving the ``with`` block) ends it.

    ``lost`` is a ``threading.Event`` set when the lease is, or may be, no longer held: the server said it
    is gone (expired, revoked, released elsewhere, its session ended), or no renewal got through for as
    long as it lives. Callbacks given with ``on_lost=`` or ``add_lost_callback`` run then, on the
    keep-alive thread. Neither fires after ``release()``."""

    def __init__(
        self,
        client: "Client",
        data: Dict[str, Any],
        session: Optional["Session"],
        owns_session: bool,
        alive_since: float,
        renew: bool,
        on_lost: Optional[Callable[["Lease"], None]],
    ) -> None:
        self._client = client
        self.data: Dict[str, Any] = data
        self.session = session
        self._owns_session = owns_session
        self._signal = _LostSignal(self)
        self.lost = self._signal.event
        self._released = False
        self._lock = threading.Lock()
        if on_lost is not None:
            self._signal.add(on_lost)
        self._keeper: Optional[_Keeper] = None
        ttl = self.ttl
        if ttl is not None:
            beat = self._renew_beat if renew else None
            self._keeper = _Keeper("leasehold-lease-%d" % self.id, ttl, alive_since, beat, self._signal.fire)
            self._keeper.start()

    # The granted lease's fields.
    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def token(self) -> str:
        """The secret that renews or releases the lease (from another process too)."""
        return str(self.data["token"])

    @property
    def fence(self) -> int:
        """The fencing token: pass it to the guarded system so a stale holder's writes can be refused."""
        return int(self.data["fence"])

    @property
    def paths(self) -> List[str]:
        return list(self.data.get("paths") or [])

    @property
    def path(self) -> str:
        """The first (for most leases the only) path."""
        return self.paths[0]

    @property
    def resources(self) -> List[Resource]:
        """For a pool lease: the resources chosen, with their attributes."""
        return resources_of(self.data)

    @property
    def owner(self) -> Optional[str]:
        return self.data.get("owner")

    @property
    def ttl(self) -> Optional[float]:
        ttl = self.data.get("ttl")
        return float(ttl) if ttl is not None else None

    @property
    def session_id(self) -> Optional[int]:
        s = self.data.get("session")
        return int(s) if s is not None else None

    @property
    def is_lost(self) -> bool:
        return self.lost.is_set()

    @property
    def released(self) -> bool:
        return self._released

    def add_lost_callback(self, callback: Callable[["Lease"], None]) -> None:
        """Runs ``callback(lease)`` when the lease is lost (at once if it already is)."""
        self._signal.add(callback)

    def _renew_beat(self, deadline: float) -> bool:
        self._client._transport.call(
            "POST", "/v1/leases/%d/renew" % self.id, None, token=self.token, deadline=deadline
        )
        return True

    def _session_lost(self) -> None:
        if not self._released:
            self._signal.fire()

    def renew(self, ttl: Optional[float] = None) -> Dict[str, Any]:
        """Renews now (it is renewed in the background anyway), optionally with a new ttl."""
        return self._client.renew(self.id, self.token, ttl)

    def release(self) -> None:
        """Stops keeping the lease alive and releases it. A lease already gone is not an error; a server that
        cannot be reached raises ``Unreachable`` (the lease then ends by its ttl or its session)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self._signal.cancel()
        if self._keeper is not None:
            self._keeper.stop()
        if self.session is not None:
            self.session._untrack(self)
        try:
            self._client.release(self.id, self.token)
        except (NotFound, InvalidToken):
            pass  # gone already (expired, revoked, its session ended)
        finally:
            if self._owns_session and self.session is not None:
                self.session.close()

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.release()
        except LeaseholdError as error:
            log.warning("releasing lease %d failed: %s", self.id, error)

    def __repr__(self) -> str:
        return "Lease(id=%d, paths=%r, fence=%d%s)" % (self.id, self.paths, self.fence, ", lost" if self.is_lost else "")


class Session:
    """A session kept alive by a background thread (every ttl/3). Leases acquired through it
    (``session.acquire(...)``) end when it ends: closed, or not kept alive within its ttl (the process
    died, the server could not be reached, an administrator ended it). ``lost`` and the ``on_lost``
    callbacks say it ended without ``close()``; its leases are then lost too."""

    def __init__(self, client: "Client", data: Dict[str, Any], alive_since: float, on_lost: Optional[Callable[["Session"], None]]) -> None:
        self._client = client
        self.data = data
        self._signal = _LostSignal(self)
        self.lost = self._signal.event
        # Keyed by handle, not by lease id: two handles of one lease (reuse=True hands a lease back) are both tracked.
        self._leases: Dict[Lease, None] = {}
        self._lock = threading.Lock()
        self._closed = False
        if on_lost is not None:
            self._signal.add(on_lost)
        self._signal.add(lambda _: self._lose_leases())
        self._keeper = _Keeper("leasehold-session-%d" % self.id, self.ttl, alive_since, self._beat, self._signal.fire)
        self._keeper.start()

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def token(self) -> str:
        return str(self.data["token"])

    @property
    def ttl(self) -> float:
        return float(self.data["ttl"])

    @property
    def owner(self) -> Optional[str]:
        return self.data.get("owner")

    @property
    def is_lost(self) -> bool:
        return self.lost.is_set()

    def add_lost_callback(self, callback: Callable[["Session"], None]) -> None:
        self._signal.add(callback)

    def acquire(self, path: Paths = None, **kwargs: Any) -> Lease:
        """``Client.acquire`` with the lease bound to this session."""
        return self._client.acquire(path, session=self, **kwargs)

    def try_acquire(self, path: Paths = None, **kwargs: Any) -> Optional[Lease]:
        return self._client.try_acquire(path, session=self, **kwargs)

    def _track(self, lease: Lease) -> None:
        with self._lock:
            self._leases[lease] = None
        if self.is_lost:
            lease._session_lost()

    def _untrack(self, lease: Lease) -> None:
        with self._lock:
            self._leases.pop(lease, None)

    def _beat(self, deadline: float) -> bool:
        answer = self._client._transport.call(
            "POST", "/v1/sessions/%d/keepalive" % self.id, None, token=self.token, deadline=deadline
        )
        with self._lock:
            tracked = list(self._leases)
        held = int(answer.get("leases", 0)) if isinstance(answer, dict) else 0
        if held < len({lease.id for lease in tracked}):
            # Fewer leases than this process holds through it: find out which ended (released elsewhere, revoked).
            # Each is asked on its own, and the session counts as kept alive whatever the answers.
            for lease in tracked:
                if self._lease_gone(lease, deadline):
                    self._untrack(lease)
                    lease._session_lost()
        return True

    def _lease_gone(self, lease: Lease, deadline: float) -> bool:
        """Whether a lease tracked here has ended or left this session: a GET of it (the ``read`` right), else, when
        that is forbidden, a renewal with its token (the ``lock`` right it was acquired with; renewing a session's
        lease changes nothing). Only ``not-found`` / ``invalid-token``, or another session, say it is gone; any
        other failure says nothing, and it stays tracked."""
        transport = self._client._transport
        try:
            try:
                current = transport.call("GET", "/v1/leases/%d" % lease.id, deadline=deadline)
            except Forbidden:
                current = transport.call("POST", "/v1/leases/%d/renew" % lease.id, None, token=lease.token, deadline=deadline)
        except (NotFound, InvalidToken):
            return True
        except LeaseholdError as error:
            log.debug("could not tell whether lease %d is still held: %s", lease.id, error)
            return False
        return isinstance(current, dict) and current.get("session") != self.id

    def _lose_leases(self) -> None:
        with self._lock:
            leases, self._leases = list(self._leases), {}
        for lease in leases:
            lease._session_lost()

    def keepalive(self) -> Dict[str, Any]:
        """Keeps the session alive now (the background thread does it anyway)."""
        result: Dict[str, Any] = self._client._transport.call("POST", "/v1/sessions/%d/keepalive" % self.id, None, token=self.token)
        return result

    def close(self) -> None:
        """Stops keeping the session alive and closes it, which ends every lease bound to it at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            leases, self._leases = list(self._leases), {}
        self._signal.cancel()
        self._keeper.stop()
        for lease in leases:
            lease._released = True
            lease._signal.cancel()
            if lease._keeper is not None:
                lease._keeper.stop()
        try:
            self._client._transport.call(
                "DELETE", "/v1/sessions/%d" % self.id, token=self.token, deadline=time.monotonic() + self.ttl
            )
        except (NotFound, InvalidToken, Unreachable):
            pass  # gone already, or it expires by its ttl

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Session(id=%d, ttl=%g%s)" % (self.id, self.ttl, ", lost" if self.is_lost else "")


class Client:
    """A client of one Leasehold server or cluster, over HTTP. Thread-safe; one per process is enough.

    ``servers``: a URL, a comma-separated list or a list of URLs (default ``$LEASEHOLD_SERVER``, else
    ``http://127.0.0.1:8765``); a request that gets no answer, or a 503 ``no-leader``, moves to the next.
    ``api_key``: sent as ``Authorization: Bearer`` (default ``$LEASEHOLD_API_KEY``)."""

    def __init__(
        self,
        servers: Union[str, Sequence[str], None] = None,
        *,
        api_key: Optional[str] = None,
        owner: Optional[str] = None,
        session_ttl: float = 15.0,
        retries: int = 3,
        retry_timeout: float = 15.0,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        ca_file: Optional[str] = None,
        cert_file: Optional[str] = None,
        key_file: Optional[str] = None,
    ) -> None:
        urls = parse_servers(servers)
        context = None
        if any(u.startswith("https://") for u in urls):
            context = make_ssl_context(ca_file, cert_file, key_file)
        self.settings = Settings(
            servers=urls,
            api_key=api_key if api_key is not None else os.environ.get("LEASEHOLD_API_KEY") or None,
            owner=owner,
            session_ttl=session_ttl,
            retries=retries,
            retry_timeout=retry_timeout,
            connect_timeout=connect_timeout,
            timeout=timeout,
            ssl_context=context,
        )
        self._transport = Transport(self.settings)
        # The sessions this client keeps alive, by id: a lease handed back by reuse=True follows the one it is bound to.
        self._sessions: "weakref.WeakValueDictionary[int, Session]" = weakref.WeakValueDictionary()

    @property
    def servers(self) -> List[str]:
        return list(self.settings.servers)

    # Leases

    def acquire(
        self,
        path: Paths = None,
        *,
        pool: Optional[str] = None,
        require: Requirement = None,
        count: Optional[int] = None,
        groups: Optional[Sequence[Group]] = None,
        ttl: Optional[float] = None,
        wait: float = 0,
        owner: Optional[str] = None,
        shared: bool = False,
        limit: Optional[int] = None,
        session: Optional[Session] = None,
        lock_parents: bool = True,
        lock_children: bool = True,
        reuse: bool = False,
        renew: bool = True,
        on_lost: Optional[Callable[[Lease], None]] = None,
    ) -> Lease:
        """Acquires a path (or several, all or none), or resources from a pool, queueing up to ``wait`` seconds.

        Raises ``Locked`` (a ``TimeoutError``) when not granted within ``wait``, ``NoMatch`` when no declared
        resources could ever match, ``Unreachable`` when no server answers, and the typed exception of any
        other refusal. Without ``ttl`` the lease is bound to a session (``session=``, or one of its own kept
        alive in the background), so it ends when this process dies; with ``ttl`` it is renewed every ttl/3
        (``renew=False``: never, it ends by its ttl)."""
        body = acquire_body(
            path,
            pool=pool,
            require=require,
            count=count,
            groups=groups,
            shared=shared,
            limit=limit,
            ttl=ttl,
            wait=wait,
            owner=owner if owner is not None else self.settings.owner,
            session=None,
            lock_parents=lock_parents,
            lock_children=lock_children,
            reuse=reuse,
        )
        own_session: Optional[Session] = None
        if ttl is None and session is None and renew:
            own_session = self.session(ttl=self.settings.session_ttl, owner=body.get("owner"))
        bound = session or own_session
        if bound is not None:
            body["session"] = bound.id
        if not reuse:
            # One key for every try of this acquire: a retry (after a lost answer, or on another server) gets
            # the lease an earlier try was granted, never a second one.
            body["idempotencyKey"] = new_idempotency_key()
        started = time.monotonic()
        state = {"tries": 0, "sent": started}

        def each_try(_: int) -> Dict[str, Any]:
            # Counted across the requests below: a try after the first waits what is left of the wait.
            state["tries"] += 1
            state["sent"] = time.monotonic()
            if state["tries"] == 1:
                return body
            return dict(body, wait=max(0.0, wait - (time.monotonic() - started)))

        try:
            while True:
                try:
                    data = self._transport.call("POST", "/v1/leases", each_try, timeout=wait + self.settings.timeout)
                    break
                except Unreachable:
                    # The retries count from a request's first failure, so a wait cut short by the network again and
                    # again (a proxy closing long requests) ends unreachable although the server is there: while wait
                    # is left and the server answers, ask again (the same idempotency key: never a second lease).
                    if time.monotonic() - started >= wait or not self._answers():
                        raise
            if bound is not None and data.get("session") not in (None, bound.id):
                # reuse=True handed back a lease bound to another session (the one it was first acquired under): it
                # lives as long as that one, which this handle follows when it is one of this client's.
                bound = self._sessions.get(int(data["session"]))
                if own_session is not None:
                    own_session.close()
                    own_session = None
            if ttl is None:
                alive_since = bound._keeper.alive_since if bound is not None else started
            elif state["tries"] > 1:
                alive_since = self._restart_ttl(data, started)
            else:
                alive_since = state["sent"] + float(data.get("waited") or 0)
            lease = Lease(self, data, bound, own_session is not None, alive_since, renew, on_lost)
            if bound is not None:
                bound._track(lease)
            own_session = None
            return lease
        finally:
            if own_session is not None:
                own_session.close()

    def _answers(self) -> bool:
        """Whether a server answers now (whatever it says)."""
        try:
            self._transport.send("GET", "/readyz")
            return True
        except Unreachable:
            return False

    def _restart_ttl(self, data: Dict[str, Any], first_try: float) -> float:
        # A retried acquire may have got the lease an earlier try was granted, whose ttl runs from a moment
        # this process cannot place: renewing starts it again from one it knows.
        sent = time.monotonic()
        try:
            self.renew(int(data["id"]), str(data["token"]))
            return sent
        except LeaseholdError:
            return first_try

    def try_acquire(self, path: Paths = None, **kwargs: Any) -> Optional[Lease]:
        """``acquire``, but None instead of ``Locked`` when not granted within ``wait``."""
        try:
            return self.acquire(path, **kwargs)
        except Locked:
            return None

    def renew(self, lease_id: int, token: str, ttl: Optional[float] = None) -> Dict[str, Any]:
        """Renews a lease by id and token (e.g. one taken by another process); a new ``ttl`` optionally."""
        body = {"ttl": ttl} if ttl is not None else None
        result: Dict[str, Any] = self._transport.call("POST", "/v1/leases/%d/renew" % lease_id, body, token=token)
        return result

    def release(self, lease_id: int, token: str) -> None:
        """Releases a lease by id and token."""
        self._transport.call("DELETE", "/v1/leases/%d" % lease_id, token=token)

    def get_lease(self, lease_id: int) -> Optional[Dict[str, Any]]:
        """The lease (without its token), or None once it has ended."""
        try:
            result: Dict[str, Any] = self._transport.call("GET", "/v1/leases/%d" % lease_id)
            return result
        except NotFound:
            return None

    # Sessions

    def session(
        self, ttl: Optional[float] = None, owner: Optional[str] = None, on_lost: Optional[Callable[[Session], None]] = None
    ) -> Session:
        """Opens a session (ttl default ``session_ttl``), kept alive in the background until closed."""
        body: Dict[str, Any] = {"ttl": ttl if ttl is not None else self.settings.session_ttl}
        owner = owner if owner is not None else self.settings.owner
        if owner is not None:
            body["owner"] = owner
        sent = time.monotonic()
        data = self._transport.call("POST", "/v1/sessions", body)
        opened = Session(self, data, sent, on_lost)
        self._sessions[opened.id] = opened
        return opened

    # Resources and pools

    def declare(self, path: str, attributes: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Declares a resource (for pools) with its attributes; declaring again replaces them."""
        result: Dict[str, Any] = self._transport.call("PUT", "/v1/resources" + encode_path(path), attributes or {})
        return result

    def undeclare(self, path: str) -> None:
        """Removes a declared resource nobody holds (``ResourceBusy`` otherwise)."""
        self._transport.call("DELETE", "/v1/resources" + encode_path(path))

    def resource(self, path: str) -> Dict[str, Any]:
        """Who holds a path, who waits for it, and what blocks it from elsewhere in the tree."""
        result: Dict[str, Any] = self._transport.call("GET", "/v1/resources" + encode_path(path))
        return result

    def pool_resources(self, pool: str) -> List[Dict[str, Any]]:
        """A pool's declared resources as py-lockable's resource list."""
        result: List[Dict[str, Any]] = self._transport.call("GET", "/v1/pools" + encode_path(pool) + "/resources.json")
        return result

    def fence_is_current(self, path: str, fence: int) -> bool:
        """For the guarded system: is ``fence`` the fence of a lease holding ``path`` right now?"""
        result = self._transport.call("GET", "/v1/fences%s?fence=%d" % (encode_path(path), fence))
        return bool(result.get("current"))

    # Events

    def watch(self, prefix: str = "/", *, snapshot: bool = False, after: Optional[int] = None) -> "Watch":
        """Every change under ``prefix`` as it happens (docs/events.md), as an iterator of ``Event``:

            for e in client.watch("/lab", snapshot=True):
                if e.type == "granted":
                    print(e.lease["owner"], e.paths)

        ``snapshot`` starts with the state under the prefix; ``after`` resumes after a revision seen earlier. It
        resumes by itself after a cut-off or a lost connection, after the last revision it gave, on this server
        or the next; a ``reset`` event (then a ``snapshot``) says the server could not fill the gap. A stream
        silent for twice the server's keep-alive interval and 5 s more counts as lost. Nothing is sent before the
        first ``next()``; a refusal (a bad prefix, no right to read it) raises then. ``close()`` it (from any
        thread: a ``for`` loop waiting for the next event then ends) or leave the ``for`` loop to end the stream."""
        return Watch(self._transport, WatchState(prefix, snapshot, after))

    def healthy(self) -> bool:
        """Whether the current server answers ``/readyz`` with 200."""
        try:
            return self._transport.send("GET", "/readyz").status == 200
        except Unreachable:
            return False

    def close(self) -> None:
        """Nothing to free (a connection per request); kept for symmetry with ``with Client() as c``."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Watch:
    """What ``Client.watch`` returns: an iterator of the events; ``close()`` ends it from any thread (also usable
    as ``with client.watch(...) as events:``)."""

    def __init__(self, transport: Transport, state: WatchState) -> None:
        self._state = state
        self._events = transport.events(state)

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        self._state.stop()
        try:
            self._events.close()
        except ValueError:
            pass  # next() is running on another thread: it sees the stop and ends there

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The client ``lease()`` and ``session()`` use: made on first use from ``$LEASEHOLD_SERVER`` and
    ``$LEASEHOLD_API_KEY``."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def lease(path: Paths = None, **kwargs: Any) -> Lease:
    """``default_client().acquire(...)``: ``with lease("/lab/phone-7", ttl=30, wait=60) as l: use(l.fence)``."""
    return default_client().acquire(path, **kwargs)


def session(ttl: Optional[float] = None, **kwargs: Any) -> Session:
    """``default_client().session(...)``."""
    return default_client().session(ttl, **kwargs)
