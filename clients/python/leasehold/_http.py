"""The blocking HTTP transport: one connection per request, failover across servers, bounded retries."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from typing import Any, Generator, Optional, Tuple

from ._common import (
    MAX_REDIRECTS,
    REDIRECTS,
    Answer,
    ServerList,
    Settings,
    backoff,
    host_header,
    parse_body,
    redirect_refused,
    request_headers,
    split_server,
    transport_failure_message,
)
from ._errors import LeaseholdError, Unreachable, from_problem
from ._events import Event, Reconnects, WatchState

# What a try that got no (whole) answer raises: refused, reset, timed out, cut short, unreadable.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException, ssl.SSLError)


class Transport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.servers = ServerList(list(settings.servers))

    def once(self, server: str, method: str, path: str, body: Optional[bytes], token: Optional[str], timeout: float) -> Answer:
        """One try on one server; raises a transport error when no whole answer came."""
        conn, host, prefix = self._connect(server, timeout)
        try:
            headers = request_headers(self.settings, host, body, token)
            conn.request(method, prefix + path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return Answer(response.status, headers, parse_body(data), server)
        finally:
            conn.close()

    def _connect(self, server: str, timeout: float) -> Tuple[http.client.HTTPConnection, str, str]:
        """A connection to ``server`` (within the connect timeout), reads bounded by ``timeout``; its Host header and path prefix."""
        scheme, host, port, prefix = split_server(server)
        connect = min(self.settings.connect_timeout, timeout)
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=connect, context=self.settings.ssl_context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect)
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(max(0.001, timeout))
        except BaseException:
            conn.close()
            raise
        return conn, host_header(scheme, host, port), prefix

    def events(self, state: WatchState) -> Generator[Event, None, None]:
        """A watch's events, stream after stream (docs/events.md): each new stream resumes after the last revision
        handed out; ``Reconnects`` says when and where the next one is opened. A refusal (a bad prefix, no right to
        read it) raises its typed exception. ``state.stop()``, from any thread, ends it."""
        reconnects = Reconnects(self.servers, lambda tries, first: self._may_retry(tries, first, None),
                                lambda tries, asked, first: self._pause(tries, asked, first, None))
        while not state.stopped.wait(reconnects.pause()):
            index, server = self.servers.pick()
            conn: Optional[http.client.HTTPConnection] = None
            response: Optional[http.client.HTTPResponse] = None
            opened = handed_out = False
            try:
                conn, host, prefix = self._connect(server, self.settings.timeout)
                state.reading(conn.sock)
                headers = request_headers(self.settings, host, None, None)
                headers["Accept"] = "text/event-stream"
                conn.request("GET", prefix + state.target(), headers=headers)
                # The answer keeps reading this socket after getresponse() lets go of it (Connection: close).
                sock = conn.sock
                response = conn.getresponse()
                answer_headers = {k.lower(): v for k, v in response.getheaders()}
                if response.status != 200:
                    problem = Answer(response.status, answer_headers, parse_body(response.read()), server).problem or {}
                    reconnects.refused(response.status, problem, server, index, answer_headers.get("location"))
                    continue
                opened = True
                reconnects.opened(answer_headers.get("leasehold-leader"))
                # Counts only while a line is awaited: never while the caller handles an event.
                silence = state.opened(answer_headers)
                if sock is not None:
                    sock.settimeout(silence)
                while True:
                    line = response.readline()
                    if not line:
                        break
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
            except TRANSPORT_ERRORS as error:
                if state.stopped.is_set():
                    return  # (stop() shut the socket down under the read)
                reconnects.lost(error, opened, server, index)
            finally:
                state.reading(None)
                if response is not None:
                    response.close()
                if conn is not None:
                    conn.close()
            reconnects.ended(opened, handed_out)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: Optional[str] = None,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
        body_for_retry: Optional[Any] = None,
    ) -> Answer:
        """Sends with failover: a transport failure or a 503 ``no-leader``/``shutting-down`` moves to the next server,
        any other 503 is retried where it came from; at most ``retries`` retries within ``retry_timeout`` (and
        before ``deadline``, a ``time.monotonic()`` value). ``body`` may be a callable giving the body of each try."""
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
                    raise Unreachable(
                        transport_failure_message([server], socket.timeout("no answer in time")), server=server
                    )
            asked: Optional[float] = None
            try:
                answer = self.once(server, method, path, data, token, per_try)
            except TRANSPORT_ERRORS as error:
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
                        time.sleep(self._pause(tries, asked, first_failure, deadline))
                        tries += 1
                        continue
                elif answer.status < 400:
                    self.servers.follow_leader(answer.headers.get("leasehold-leader"))
                return answer
            time.sleep(self._pause(tries, asked, first_failure, deadline))
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

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """``send``, then a problem answer raised as its typed exception; the parsed body otherwise."""
        answer = self.send(method, path, body, **kwargs)
        problem = answer.problem
        if problem is not None:
            raise from_problem(answer.status, problem, answer.server)
        return answer.body


def raise_for(answer: Answer) -> None:
    problem = answer.problem
    if problem is not None:
        raise from_problem(answer.status, problem, answer.server)


__all__ = ["Transport", "TRANSPORT_ERRORS", "raise_for"]
