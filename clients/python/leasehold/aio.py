"""The asyncio client: ``AsyncClient``, ``AsyncLease``, ``AsyncSession`` and ``lease()``.

    from leasehold import aio

    async with aio.lease("/lab/phone-7", ttl=30, wait=60) as l:
        await use(l.fence)

It speaks HTTP/1.1 over ``asyncio`` streams itself (standard library only), so cancelling a waiting acquire
closes its connection and the server drops the request from its queue. Keep-alives run as tasks on the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
import weakref
from typing import Any, AsyncGenerator, AsyncIterator, Awaitable, Callable, Dict, Generator, List, Optional, Sequence, Tuple, Union

from ._common import (
    MAX_REDIRECTS,
    REDIRECTS,
    Answer,
    Group,
    Requirement,
    Resource,
    ServerList,
    Settings,
    acquire_body,
    backoff,
    encode_path,
    host_header,
    make_ssl_context,
    new_idempotency_key,
    parse_body,
    parse_servers,
    redirect_refused,
    request_headers,
    resources_of,
    split_server,
    transport_failure_message,
)
from ._events import Event, Reconnects, WatchState
from ._errors import Forbidden, InvalidToken, LeaseholdError, Locked, NotFound, Unreachable, from_problem

log = logging.getLogger("leasehold")

Paths = Union[str, Sequence[str], None]
Callback = Callable[[Any], Union[None, Awaitable[None]]]


class _BadAnswer(Exception):
    """The server's answer could not be read as HTTP/1.1."""


_TRANSPORT_ERRORS = (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, _BadAnswer, EOFError)


async def _close(writer: asyncio.StreamWriter, abort: bool = False) -> None:
    """Closes a connection; ``abort`` drops it at once (a peer that went silent would never finish a TLS close). The
    wait for the close is bounded either way."""
    if abort:
        writer.transport.abort()
    else:
        writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1)
    except Exception:
        pass


async def _readline(reader: asyncio.StreamReader) -> bytes:
    """One line of an answer's head; a line over the reader's limit (64 KiB) is a bad answer, not a crash."""
    try:
        return await reader.readline()
    except ValueError as error:
        raise _BadAnswer("an answer line over %d bytes" % (1 << 16)) from error


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, target: str, headers: Dict[str, str], body: Optional[bytes]
) -> Tuple[int, Dict[str, str]]:
    """Sends one request and reads the answer's status line and headers (names lower-cased)."""
    head = "%s %s HTTP/1.1\r\n" % (method, target) + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    writer.write(head.encode("latin-1") + (body or b""))
    await writer.drain()
    status_line = await _readline(reader)
    parts = status_line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _BadAnswer("not an HTTP answer: %r" % status_line[:80])
    answer_headers: Dict[str, str] = {}
    while True:
        line = await _readline(reader)
        if not line:
            raise _BadAnswer("the answer's headers were cut short")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return int(parts[1]), answer_headers


async def _chunks(reader: asyncio.StreamReader, silence: Optional[float] = None) -> AsyncIterator[bytes]:
    """A chunked body's data as it comes (a chunk may come in several pieces); each read within ``silence`` seconds
    when given."""
    while True:
        size_line = await asyncio.wait_for(_readline(reader), silence)
        if not size_line:
            raise _BadAnswer("the answer was cut short")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadAnswer("a bad chunk size %r" % size_line[:40]) from None
        if size == 0:
            while (await asyncio.wait_for(_readline(reader), silence)) not in (b"\r\n", b"\n", b""):
                pass
            return
        while size > 0:
            piece = await asyncio.wait_for(reader.read(min(size, 65536)), silence)
            if not piece:
                raise _BadAnswer("the answer was cut short")
            size -= len(piece)
            yield piece
        await asyncio.wait_for(reader.readexactly(2), silence)


async def _read_body(reader: asyncio.StreamReader, headers: Dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return b"".join([piece async for piece in _chunks(reader)])
    if "content-length" in headers:
        length = headers["content-length"]
        if not length.isdecimal():
            raise _BadAnswer("a bad Content-Length %r" % length[:40])
        return await reader.readexactly(int(length))
    return await reader.read()


async def _pieces(reader: asyncio.StreamReader, silence: float) -> AsyncIterator[bytes]:
    """A body read to its end (no chunks: an HTTP/1.0 proxy's), each read within ``silence`` seconds."""
    while True:
        piece = await asyncio.wait_for(reader.read(65536), silence)
        if not piece:
            return
        yield piece


async def _lines(reader: asyncio.StreamReader, headers: Dict[str, str], silence: float) -> AsyncIterator[bytes]:
    """A streamed body's lines (without their ends) as they come, of any length; each read within ``silence``
    seconds. Ends with the body; a silent stream raises ``asyncio.TimeoutError``."""
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    pending: List[bytes] = []
    async for piece in _chunks(reader, silence) if chunked else _pieces(reader, silence):
        start = 0
        end = piece.find(b"\n")
        while end >= 0:
            pending.append(piece[start:end])
            line = b"".join(pending)
            pending = []
            yield line[:-1] if line.endswith(b"\r") else line
            start = end + 1
            end = piece.find(b"\n", start)
        if start < len(piece):
            pending.append(piece[start:])


class _Transport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.servers = ServerList(list(settings.servers))

    async def _open(self, server: str, timeout: float) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter, str, str]:
        """A connection to ``server`` within the connect timeout; its Host header and path prefix."""
        scheme, host, port, prefix = split_server(server)
        context = self.settings.ssl_context if scheme == "https" else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host if context else None),
            min(self.settings.connect_timeout, timeout),
        )
        return reader, writer, host_header(scheme, host, port), prefix

    async def once(self, server: str, method: str, path: str, body: Optional[bytes], token: Optional[str], timeout: float) -> Answer:
        reader, writer, hostport, prefix = await self._open(server, timeout)
        try:
            return await asyncio.wait_for(self._exchange(reader, writer, server, hostport, method, prefix + path, body, token), timeout)
        finally:
            await _close(writer)

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        server: str,
        hostport: str,
        method: str,
        target: str,
        body: Optional[bytes],
        token: Optional[str],
    ) -> Answer:
        headers = request_headers(self.settings, hostport, body, token)
        status, answer_headers = await _request(reader, writer, method, target, headers, body)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        else:
            data = await _read_body(reader, answer_headers)
        return Answer(status, answer_headers, parse_body(data), server)

    async def events(self, state: WatchState) -> AsyncGenerator[Event, None]:
        """A watch's events, stream after stream: the blocking transport's ``events``, on the loop."""
        reconnects = Reconnects(self.servers, lambda tries, first: self._may_retry(tries, first, None),
                                lambda tries, asked, first: self._pause(tries, asked, first, None))
        while True:
            pause = reconnects.pause()
            if pause > 0:
                await asyncio.sleep(pause)
            index, server = self.servers.pick()
            writer: Optional[asyncio.StreamWriter] = None
            opened = handed_out = read_whole = False
            try:
                reader, writer, hostport, prefix = await self._open(server, self.settings.timeout)
                headers = request_headers(self.settings, hostport, None, None)
                headers["Accept"] = "text/event-stream"
                status, answer_headers = await asyncio.wait_for(
                    _request(reader, writer, "GET", prefix + state.target(), headers, None), self.settings.timeout
                )
                if status != 200:
                    body = await asyncio.wait_for(_read_body(reader, answer_headers), self.settings.timeout)
                    read_whole = True
                    problem = Answer(status, answer_headers, parse_body(body), server).problem or {}
                    reconnects.refused(status, problem, server, index, answer_headers.get("location"))
                    continue
                opened = True
                reconnects.opened(answer_headers.get("leasehold-leader"))
                # Counts only while a line is awaited: never while the caller handles an event.
                silence = state.opened(answer_headers)
                async for line in _lines(reader, answer_headers, silence):
                    event, cut_off = state.read(line)
                    if cut_off:
                        break
                    if event is not None:
                        handed_out = True
                        reconnects.handed_out()
                        yield event
            except LeaseholdError:
                # A refusal (some are also OSErrors: Forbidden is a PermissionError): not a transport failure.
                raise
            except _TRANSPORT_ERRORS as error:
                reconnects.lost(error, opened, server, index)
            finally:
                if writer is not None:
                    # Closed politely only after a refusal read to its end: a stream, a lost or cancelled try may have
                    # a peer that never answers a close (TLS waits for it), so those are dropped.
                    await _close(writer, abort=not read_whole)
            reconnects.ended(opened, handed_out)

    async def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: Optional[str] = None,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
    ) -> Answer:
        """As the blocking client's: failover on no answer or a 503 ``no-leader``, bounded retries."""
        first_failure: Optional[float] = None
        tries = redirects = 0
        while True:
            index, server = self.servers.pick()
            payload = body(tries) if callable(body) else body
            data = None if payload is None else json.dumps(payload).encode("utf-8")
            per_try = self.settings.timeout if timeout is None else timeout
            if deadline is not None:
                per_try = min(per_try, deadline - time.monotonic())
                if per_try <= 0:
                    raise Unreachable(transport_failure_message([server], TimeoutError("no answer in time")), server=server)
            asked: Optional[float] = None
            try:
                answer = await self.once(server, method, path, data, token, per_try)
            except _TRANSPORT_ERRORS as error:
                first_failure = first_failure or time.monotonic()
                if not self._may_retry(tries, first_failure, deadline):
                    raise Unreachable(transport_failure_message(self.servers.servers, error), server=server) from error
                self.servers.move_on(index)
            else:
                if answer.status in REDIRECTS:
                    # Not a failure: the same request, at once, on the server the follower named (if it is ours).
                    redirects += 1
                    if redirects > MAX_REDIRECTS or not self.servers.follow_leader(answer.headers.get("location")):
                        raise redirect_refused(answer.status, answer.headers.get("location"), server)
                    continue
                if answer.status == 503:
                    first_failure = first_failure or time.monotonic()
                    if self._may_retry(tries, first_failure, deadline):
                        problem = answer.problem or {}
                        if problem.get("code") in ("no-leader", "shutting-down"):
                            self.servers.move_on(index)
                        asked = problem.get("_retryAfter")
                        await asyncio.sleep(self._pause(tries, asked, first_failure, deadline))
                        tries += 1
                        continue
                elif answer.status < 400:
                    self.servers.follow_leader(answer.headers.get("leasehold-leader"))
                return answer
            await asyncio.sleep(self._pause(tries, asked, first_failure, deadline))
            tries += 1

    def _may_retry(self, tries: int, first_failure: float, deadline: Optional[float]) -> bool:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return False
        return tries < self.settings.retries and now - first_failure < self.settings.retry_timeout

    def _pause(self, tries: int, asked: Optional[float], first_failure: float, deadline: Optional[float]) -> float:
        left = self.settings.retry_timeout - (time.monotonic() - first_failure)
        if deadline is not None:
            left = min(left, deadline - time.monotonic())
        return backoff(tries, asked, left)

    async def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        answer = await self.send(method, path, body, **kwargs)
        problem = answer.problem
        if problem is not None:
            raise from_problem(answer.status, problem, answer.server)
        return answer.body


class _LostSignal:
    def __init__(self, subject: Any) -> None:
        self._subject = subject
        self.event = asyncio.Event()
        self._callbacks: List[Callback] = []
        self.cancelled = False

    def add(self, callback: Callback) -> None:
        if self.event.is_set():
            self._run(callback)
        else:
            self._callbacks.append(callback)

    def fire(self) -> None:
        if self.event.is_set() or self.cancelled:
            return
        self.event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self._run(callback)

    def cancel(self) -> None:
        self.cancelled = True
        self._callbacks = []

    def _run(self, callback: Callback) -> None:
        try:
            result = callback(self._subject)
            if inspect.isawaitable(result):
                # The loop keeps only weak references to tasks: held here until it ends, or it may be collected midway.
                task = asyncio.ensure_future(result)
                _callback_tasks.add(task)
                task.add_done_callback(_callback_done)
        except Exception:
            log.exception("a lost-lease callback raised")


# The coroutine lost-callbacks still running, kept from the garbage collector (of every loop: a task is hashable).
_callback_tasks: "set[asyncio.Future[Any]]" = set()


def _callback_done(task: "asyncio.Future[Any]") -> None:
    _callback_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a lost-lease callback raised", exc_info=task.exception())


class _Keeper:
    """The blocking client's keeper as a task: beat every lifetime/3 (a failed one retried after a sixth), lost when
    the server says so or when nothing got through for the lifetime, counted from the last good beat's sending."""

    def __init__(
        self,
        lifetime: float,
        alive_since: float,
        beat: Optional[Callable[[float], Awaitable[bool]]],
        on_lost: Callable[[], None],
    ) -> None:
        self._lifetime = lifetime
        self.alive_since = alive_since
        self._beat = beat
        self._on_lost = on_lost
        self._stopped = False
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        period = self._lifetime / 3
        next_beat = self.alive_since + period
        while not self._stopped:
            now = time.monotonic()
            deadline = self.alive_since + self._lifetime
            if now >= deadline:
                self._lost()
                return
            wake = deadline if self._beat is None else min(next_beat, deadline)
            await asyncio.sleep(max(0.0, wake - now))
            if self._stopped:
                return
            if self._beat is None or time.monotonic() < next_beat or time.monotonic() >= deadline:
                continue
            sent = time.monotonic()
            try:
                # One bound for the whole keep-alive (connect, exchange, questions about leases): the deadline.
                held = await asyncio.wait_for(self._beat(deadline), max(0.0, deadline - time.monotonic()))
            except (NotFound, InvalidToken):
                self._lost()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.debug("keep-alive failed: %s", error)
                next_beat = time.monotonic() + period / 2
                continue
            if not held:
                self._lost()
                return
            self.alive_since = sent
            next_beat = sent + period

    def _lost(self) -> None:
        if not self._stopped:
            self._on_lost()

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not asyncio.current_task():
            self._task.cancel()
            # asyncio.wait raises neither the task's cancellation nor its failure, only a cancellation of the caller,
            # which must go on up: awaiting the task itself could not tell the two cancellations apart.
            await asyncio.wait([self._task])
            if not self._task.cancelled():
                self._task.exception()  # retrieved: the keep-alive's own failure is not the caller's


class AsyncLease:
    """The asyncio twin of ``leasehold.Lease``: ``lost`` is an ``asyncio.Event``; callbacks may be coroutine
    functions; ``await release()`` or ``async with``."""

    def __init__(
        self,
        client: "AsyncClient",
        data: Dict[str, Any],
        session: Optional["AsyncSession"],
        owns_session: bool,
        alive_since: float,
        renew: bool,
        on_lost: Optional[Callback],
    ) -> None:
        self._client = client
        self.data: Dict[str, Any] = data
        self.session = session
        self._owns_session = owns_session
        self._signal = _LostSignal(self)
        self.lost = self._signal.event
        self._released = False
        if on_lost is not None:
            self._signal.add(on_lost)
        self._keeper: Optional[_Keeper] = None
        if self.ttl is not None:
            self._keeper = _Keeper(self.ttl, alive_since, self._renew_beat if renew else None, self._signal.fire)

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def token(self) -> str:
        return str(self.data["token"])

    @property
    def fence(self) -> int:
        return int(self.data["fence"])

    @property
    def paths(self) -> List[str]:
        return list(self.data.get("paths") or [])

    @property
    def path(self) -> str:
        return self.paths[0]

    @property
    def resources(self) -> List[Resource]:
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

    def add_lost_callback(self, callback: Callback) -> None:
        self._signal.add(callback)

    async def _renew_beat(self, deadline: float) -> bool:
        await self._client._transport.call("POST", "/v1/leases/%d/renew" % self.id, None, token=self.token, deadline=deadline)
        return True

    def _session_lost(self) -> None:
        if not self._released:
            self._signal.fire()

    async def renew(self, ttl: Optional[float] = None) -> Dict[str, Any]:
        return await self._client.renew(self.id, self.token, ttl)

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._signal.cancel()
        if self._keeper is not None:
            await self._keeper.stop()
        if self.session is not None:
            self.session._untrack(self)
        try:
            await self._client.release(self.id, self.token)
        except (NotFound, InvalidToken):
            pass
        finally:
            if self._owns_session and self.session is not None:
                await self.session.close()

    async def __aenter__(self) -> "AsyncLease":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.release()
        except LeaseholdError as error:
            log.warning("releasing lease %d failed: %s", self.id, error)

    def __repr__(self) -> str:
        return "AsyncLease(id=%d, paths=%r, fence=%d%s)" % (self.id, self.paths, self.fence, ", lost" if self.is_lost else "")


class AsyncSession:
    """The asyncio twin of ``leasehold.Session``, kept alive by a task."""

    def __init__(self, client: "AsyncClient", data: Dict[str, Any], alive_since: float, on_lost: Optional[Callback]) -> None:
        self._client = client
        self.data = data
        self._signal = _LostSignal(self)
        self.lost = self._signal.event
        # Keyed by handle, not by lease id: two handles of one lease (reuse=True hands a lease back) are both tracked.
        self._leases: Dict[AsyncLease, None] = {}
        self._closed = False
        if on_lost is not None:
            self._signal.add(on_lost)
        self._signal.add(lambda _: self._lose_leases())
        self._keeper = _Keeper(self.ttl, alive_since, self._beat, self._signal.fire)

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
    def is_lost(self) -> bool:
        return self.lost.is_set()

    def add_lost_callback(self, callback: Callback) -> None:
        self._signal.add(callback)

    def acquire(self, path: Paths = None, **kwargs: Any) -> "_Acquiring":
        return self._client.acquire(path, session=self, **kwargs)

    def _track(self, lease: AsyncLease) -> None:
        self._leases[lease] = None
        if self.is_lost:
            lease._session_lost()

    def _untrack(self, lease: AsyncLease) -> None:
        self._leases.pop(lease, None)

    async def _beat(self, deadline: float) -> bool:
        answer = await self._client._transport.call("POST", "/v1/sessions/%d/keepalive" % self.id, None, token=self.token, deadline=deadline)
        tracked = list(self._leases)
        held = int(answer.get("leases", 0)) if isinstance(answer, dict) else 0
        if held < len({lease.id for lease in tracked}):
            # As the blocking client's: each lease asked on its own, the session kept alive whatever the answers.
            for lease in tracked:
                if await self._lease_gone(lease, deadline):
                    self._untrack(lease)
                    lease._session_lost()
        return True

    async def _lease_gone(self, lease: AsyncLease, deadline: float) -> bool:
        """As ``Session._lease_gone``: a GET, else (forbidden) a renewal by its token; only not-found, invalid-token or
        another session say gone."""
        transport = self._client._transport
        try:
            try:
                current = await transport.call("GET", "/v1/leases/%d" % lease.id, deadline=deadline)
            except Forbidden:
                current = await transport.call("POST", "/v1/leases/%d/renew" % lease.id, None, token=lease.token, deadline=deadline)
        except (NotFound, InvalidToken):
            return True
        except LeaseholdError as error:
            log.debug("could not tell whether lease %d is still held: %s", lease.id, error)
            return False
        return isinstance(current, dict) and current.get("session") != self.id

    def _lose_leases(self) -> None:
        leases, self._leases = list(self._leases), {}
        for lease in leases:
            lease._session_lost()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        leases, self._leases = list(self._leases), {}
        self._signal.cancel()
        await self._keeper.stop()
        for lease in leases:
            lease._released = True
            lease._signal.cancel()
            if lease._keeper is not None:
                await lease._keeper.stop()
        try:
            await self._client._transport.call("DELETE", "/v1/sessions/%d" % self.id, token=self.token, deadline=time.monotonic() + self.ttl)
        except (NotFound, InvalidToken, Unreachable):
            pass

    async def __aenter__(self) -> "AsyncSession":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class _Acquiring:
    """What ``AsyncClient.acquire`` returns: ``await`` it for the lease, or ``async with`` it to release on exit."""

    def __init__(self, coroutine: Awaitable[AsyncLease]) -> None:
        self._coroutine = coroutine
        self._lease: Optional[AsyncLease] = None

    def __await__(self) -> Generator[Any, None, AsyncLease]:
        return self._coroutine.__await__()

    async def __aenter__(self) -> AsyncLease:
        self._lease = await self._coroutine
        return self._lease

    async def __aexit__(self, *exc: Any) -> None:
        if self._lease is not None:
            await self._lease.__aexit__(*exc)


class AsyncClient:
    """The asyncio twin of ``leasehold.Client``: the same arguments, the same exceptions."""

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
        context = make_ssl_context(ca_file, cert_file, key_file) if any(u.startswith("https://") for u in urls) else None
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
        self._transport = _Transport(self.settings)
        self._sessions: "weakref.WeakValueDictionary[int, AsyncSession]" = weakref.WeakValueDictionary()

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
        session: Optional[AsyncSession] = None,
        lock_parents: bool = True,
        lock_children: bool = True,
        reuse: bool = False,
        renew: bool = True,
        on_lost: Optional[Callback] = None,
    ) -> _Acquiring:
        """As ``Client.acquire``; ``await`` it, or ``async with client.acquire(...) as lease``. Cancelling a waiting
        acquire closes its connection, which takes the request out of the server's queue."""
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
        return _Acquiring(self._acquire(body, ttl, wait, session, reuse, renew, on_lost))

    async def _acquire(
        self,
        body: Dict[str, Any],
        ttl: Optional[float],
        wait: float,
        session: Optional[AsyncSession],
        reuse: bool,
        renew: bool,
        on_lost: Optional[Callback],
    ) -> AsyncLease:
        own_session: Optional[AsyncSession] = None
        if ttl is None and session is None and renew:
            own_session = await self.session(ttl=self.settings.session_ttl, owner=body.get("owner"))
        bound = session or own_session
        if bound is not None:
            body["session"] = bound.id
        if not reuse:
            body["idempotencyKey"] = new_idempotency_key()
        started = time.monotonic()
        state = {"tries": 0, "sent": started}

        def each_try(_: int) -> Dict[str, Any]:
            state["tries"] += 1
            state["sent"] = time.monotonic()
            return body if state["tries"] == 1 else dict(body, wait=max(0.0, wait - (time.monotonic() - started)))

        try:
            while True:
                try:
                    data = await self._transport.call("POST", "/v1/leases", each_try, timeout=wait + self.settings.timeout)
                    break
                except Unreachable:
                    # As the blocking client's: a wait cut short past the retries is asked again while wait is left
                    # and the server answers.
                    if time.monotonic() - started >= wait or not await self._answers():
                        raise
            if bound is not None and data.get("session") not in (None, bound.id):
                # As the blocking client's: a lease reuse=True handed back follows the session it is bound to.
                bound = self._sessions.get(int(data["session"]))
                if own_session is not None:
                    await asyncio.shield(own_session.close())
                    own_session = None
            if ttl is None:
                alive_since = bound._keeper.alive_since if bound is not None else started
            elif state["tries"] > 1:
                sent = time.monotonic()
                try:
                    await self.renew(int(data["id"]), str(data["token"]))
                    alive_since = sent
                except LeaseholdError:
                    alive_since = started
            else:
                alive_since = state["sent"] + float(data.get("waited") or 0)
            lease = AsyncLease(self, data, bound, own_session is not None, alive_since, renew, on_lost)
            if bound is not None:
                bound._track(lease)
            own_session = None
            return lease
        finally:
            if own_session is not None:
                # Closing the session also ends whatever an answer that never arrived granted under it.
                await asyncio.shield(own_session.close())

    async def _answers(self) -> bool:
        try:
            await self._transport.send("GET", "/readyz")
            return True
        except Unreachable:
            return False

    async def try_acquire(self, path: Paths = None, **kwargs: Any) -> Optional[AsyncLease]:
        try:
            return await self.acquire(path, **kwargs)
        except Locked:
            return None

    async def renew(self, lease_id: int, token: str, ttl: Optional[float] = None) -> Dict[str, Any]:
        body = {"ttl": ttl} if ttl is not None else None
        result: Dict[str, Any] = await self._transport.call("POST", "/v1/leases/%d/renew" % lease_id, body, token=token)
        return result

    async def release(self, lease_id: int, token: str) -> None:
        await self._transport.call("DELETE", "/v1/leases/%d" % lease_id, token=token)

    async def get_lease(self, lease_id: int) -> Optional[Dict[str, Any]]:
        try:
            result: Dict[str, Any] = await self._transport.call("GET", "/v1/leases/%d" % lease_id)
            return result
        except NotFound:
            return None

    async def session(self, ttl: Optional[float] = None, owner: Optional[str] = None, on_lost: Optional[Callback] = None) -> AsyncSession:
        body: Dict[str, Any] = {"ttl": ttl if ttl is not None else self.settings.session_ttl}
        owner = owner if owner is not None else self.settings.owner
        if owner is not None:
            body["owner"] = owner
        sent = time.monotonic()
        data = await self._transport.call("POST", "/v1/sessions", body)
        opened = AsyncSession(self, data, sent, on_lost)
        self._sessions[opened.id] = opened
        return opened

    async def declare(self, path: str, attributes: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._transport.call("PUT", "/v1/resources" + encode_path(path), attributes or {})
        return result

    async def undeclare(self, path: str) -> None:
        await self._transport.call("DELETE", "/v1/resources" + encode_path(path))

    async def resource(self, path: str) -> Dict[str, Any]:
        result: Dict[str, Any] = await self._transport.call("GET", "/v1/resources" + encode_path(path))
        return result

    async def fence_is_current(self, path: str, fence: int) -> bool:
        result = await self._transport.call("GET", "/v1/fences%s?fence=%d" % (encode_path(path), fence))
        return bool(result.get("current"))

    def watch(self, prefix: str = "/", *, snapshot: bool = False, after: Optional[int] = None) -> AsyncGenerator[Event, None]:
        """Every change under ``prefix`` as it happens, as an async iterator of ``Event`` (``Client.watch``, on the
        loop): ``async for e in client.watch("/lab"): ...``. Leave the loop (or ``aclose()`` it) to end the stream."""
        return self._transport.events(WatchState(prefix, snapshot, after))

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass


_default: Optional[AsyncClient] = None


def default_client() -> AsyncClient:
    """The client ``lease()`` uses, made on first use from ``$LEASEHOLD_SERVER`` and ``$LEASEHOLD_API_KEY``."""
    global _default
    if _default is None:
        _default = AsyncClient()
    return _default


def lease(path: Paths = None, **kwargs: Any) -> _Acquiring:
    """``async with aio.lease("/lab/phone-7", ttl=30, wait=60) as l: ...`` (or ``l = await aio.lease(...)``)."""
    return default_client().acquire(path, **kwargs)


__all__ = ["AsyncClient", "AsyncLease", "AsyncSession", "Group", "Resource", "default_client", "lease"]
