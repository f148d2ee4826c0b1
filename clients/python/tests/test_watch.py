"""Watching changes (``Client.watch``, ``AsyncClient.watch``) against a real server whose keep-alive interval is
1 s, so a silent stream counts as lost after 7 s (twice that and 5 s more)."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
import unittest
from typing import Any, Iterator, List, Tuple

import leasehold
from leasehold import Client, Event, aio

from server import ServerProcess, closed_port_url, unique, wait_until
from test_client import CuttingProxy, _LoopbackProxy, lock_only_server

server: ServerProcess


def setUpModule() -> None:
    global server
    server = ServerProcess("--Leasehold:Events:KeepAliveSeconds=1").start()


def tearDownModule() -> None:
    server.stop()


class _Relay(_LoopbackProxy):
    """Forwards each connection both ways through ``_pass`` (what to send on, and whether to end the connection
    then), for at most a minute; ``connections`` counts the connections made."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.connections = 0
        self._lock = threading.Lock()
        self._start()

    def _accepted(self, conn: socket.socket) -> None:
        with self._lock:
            number = self.connections
            self.connections += 1
        threading.Thread(target=self._pipe, args=(conn, number), daemon=True).start()

    def _pipe(self, conn: socket.socket, number: int) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            conn.close()
            return
        answer = bytearray()  # what the server sent on this connection so far
        deadline = time.monotonic() + 60
        with conn, upstream:
            peers = {conn: upstream, upstream: conn}
            while time.monotonic() < deadline:
                readable, _, _ = select.select(list(peers), [], [], 1)
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    if sock is upstream:
                        answer += data
                    passed, end = self._pass(number, sock is upstream, data, answer)
                    if passed:
                        peers[sock].sendall(passed)
                    if end:
                        return

    def _pass(self, number: int, from_server: bool, data: bytes, answer: bytearray) -> Tuple[bytes, bool]:
        return data, False


class FreezingProxy(_Relay):
    """Until ``freeze()`` a plain relay; from then on the connections open at that moment pass nothing either way
    (what arrives is read and dropped) and stay open, as a dead network path does; new connections pass."""

    def __init__(self, target: str) -> None:
        self._frozen: List[int] = []
        super().__init__(target)

    def freeze(self) -> None:
        with self._lock:
            self._frozen = list(range(self.connections))

    def _pass(self, number: int, from_server: bool, data: bytes, answer: bytearray) -> Tuple[bytes, bool]:
        with self._lock:
            return (b"" if number in self._frozen else data), False


class HeadersOnlyProxy(_Relay):
    """Cuts the first ``cut`` connections (all with ``cut=None``) right after the server's answer headers have
    passed: a stream that opens and is lost before its first event. The others pass."""

    def __init__(self, target: str, cut: "int | None" = None) -> None:
        self._cut = cut
        super().__init__(target)

    def _pass(self, number: int, from_server: bool, data: bytes, answer: bytearray) -> Tuple[bytes, bool]:
        end = answer.find(b"\r\n\r\n")
        if not from_server or end < 0 or (self._cut is not None and number >= self._cut):
            return data, False
        # Up to the headers' end, then the connection is cut.
        return data[: max(0, len(data) - (len(answer) - end - 4))], True


def next_within(stream: Iterator[Event], timeout: float = 20) -> Event:
    """``next(stream)``, bounded: fails the test when nothing comes within ``timeout`` seconds."""
    got: List[Any] = []

    def take() -> None:
        try:
            got.append(next(stream))
        except BaseException as error:  # noqa: BLE001 - raised below, on the test's thread
            got.append(error)

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    taker.join(timeout)
    if not got:
        raise AssertionError("no event within %s s" % timeout)
    if isinstance(got[0], BaseException):
        raise got[0]
    return got[0]


def take_and_release(client: Client, path: str) -> None:
    with client.acquire(path, ttl=30, owner="watched"):
        pass


def changes(events: List[Event]) -> List[Any]:
    return [(e.type, e.paths) for e in events if e.type in ("granted", "released")]


class Watching(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)

    def test_a_snapshot_then_each_change_in_order(self) -> None:
        prefix = unique()
        held = self.client.acquire(prefix + "/held", ttl=30, owner="before")
        stream = self.client.watch(prefix, snapshot=True)
        try:
            snapshot = next_within(stream)
            self.assertTrue(snapshot.is_snapshot)
            self.assertEqual([held.id], [h["id"] for h in snapshot.holders])
            take_and_release(self.client, prefix + "/a")
            held.release()
            events = [next_within(stream) for _ in range(3)]
            self.assertEqual(
                [("granted", [prefix + "/a"]), ("released", [prefix + "/a"]), ("released", [prefix + "/held"])], changes(events)
            )
            self.assertEqual("watched", events[0].lease["owner"])
            self.assertEqual("released", events[1].reason)
            self.assertNotIn("token", events[0].lease)
            revisions = [snapshot.revision] + [e.revision for e in events]
            self.assertEqual(sorted(set(revisions)), revisions, "revisions strictly rise")
        finally:
            stream.close()

    def test_only_the_prefix_and_a_resume_after_a_revision(self) -> None:
        prefix = unique()
        stream = self.client.watch(prefix, snapshot=True)
        try:
            next_within(stream)
            take_and_release(self.client, unique())  # elsewhere: not this stream's
            take_and_release(self.client, prefix + "/x")
            granted = next_within(stream)
            self.assertEqual(("granted", [prefix + "/x"]), (granted.type, granted.paths))
        finally:
            stream.close()
        # Later, from where it was: the release that followed the grant, nothing before it.
        again = self.client.watch(prefix, after=granted.revision)
        try:
            released = next_within(again)
            self.assertEqual(("released", [prefix + "/x"]), (released.type, released.paths))
            self.assertEqual(granted.revision + 1, released.revision)
        finally:
            again.close()

    def test_it_resumes_after_each_lost_connection_without_missing_or_repeating(self) -> None:
        proxy = CuttingProxy(server.url, cut_after=0.7)
        prefix = unique()
        events: List[Event] = []
        go_on = threading.Semaphore(0)

        def consume() -> None:
            with Client(proxy.url).watch(prefix, snapshot=True) as stream:
                for event in stream:
                    events.append(event)
                    if len(changes(events)) >= 8 or not go_on.acquire(timeout=30):
                        return

        threading.Thread(target=consume, daemon=True).start()
        try:
            self.assertTrue(wait_until(lambda: len(events) >= 1, 10), "the stream opened")
            for i in range(4):
                # The stream is cut while nobody reads it, the change is made while the client has no stream: the
                # next stream must start after the last event handed out.
                cuts = proxy.cuts
                self.assertTrue(wait_until(lambda: proxy.cuts > cuts, 10), "the proxy cut the stream")
                take_and_release(self.client, "%s/p%d" % (prefix, i))
                go_on.release()
                go_on.release()
                self.assertTrue(wait_until(lambda: len(changes(events)) >= 2 * (i + 1), 20), "the change arrived: %r" % events)
            expected = [(t, ["%s/p%d" % (prefix, i)]) for i in range(4) for t in ("granted", "released")]
            self.assertEqual(expected, changes(events))
            self.assertEqual(["snapshot"] + ["granted", "released"] * 4, [e.type for e in events], "nothing else: no reset, no second snapshot")
        finally:
            go_on.release()
            proxy.close()

    def test_a_stream_gone_silent_is_given_up_and_what_happened_meanwhile_still_arrives(self) -> None:
        proxy = FreezingProxy(server.url)
        prefix = unique()
        events: List[Event] = []

        def consume() -> None:
            with Client(proxy.url).watch(prefix, snapshot=True) as stream:
                for event in stream:
                    events.append(event)
                    if len(events) >= 2:
                        return

        threading.Thread(target=consume, daemon=True).start()
        try:
            self.assertTrue(wait_until(lambda: len(events) >= 1, 10), "the stream opened")
            self.assertEqual(1, proxy.connections)
            proxy.freeze()  # no reset, no more bytes: only silence
            take_and_release(self.client, prefix + "/meanwhile")
            started = time.monotonic()
            self.assertTrue(wait_until(lambda: len(events) >= 2, 30), "the grant made meanwhile arrived")
            self.assertEqual(("granted", [prefix + "/meanwhile"]), (events[1].type, events[1].paths))
            self.assertGreaterEqual(time.monotonic() - started, 5, "the keep-alives' silence was waited out first")
            self.assertEqual(2, proxy.connections)
        finally:
            proxy.close()

    def test_a_snapshot_asked_for_comes_even_when_the_first_stream_is_lost_before_it(self) -> None:
        prefix = unique()
        held = self.client.acquire(prefix + "/held", ttl=30)
        proxy = HeadersOnlyProxy(server.url, cut=1)
        stream = Client(proxy.url).watch(prefix, snapshot=True)
        try:
            first = next_within(stream)
            self.assertTrue(first.is_snapshot, repr(first))
            self.assertEqual([held.id], [h["id"] for h in first.holders])
            self.assertEqual(2, proxy.connections)
        finally:
            stream.close()
            proxy.close()
            held.release()

    def test_streams_that_end_at_once_are_opened_again_more_and_more_slowly(self) -> None:
        proxy = HeadersOnlyProxy(server.url)
        prefix = unique()
        stream = Client(proxy.url).watch(prefix)
        reader = threading.Thread(target=lambda: next(stream, None), daemon=True)
        reader.start()
        try:
            self.assertTrue(wait_until(lambda: proxy.connections >= 3, 10), "the stream was opened again")
            counted = proxy.connections
            self.assertFalse(wait_until(lambda: proxy.connections > counted + 12, 2), "%d streams in 2 s" % proxy.connections)
        finally:
            stream.close()
            reader.join(10)
            proxy.close()
        self.assertFalse(reader.is_alive(), "close() ended the watch waiting between two streams")

    def test_a_snapshot_larger_than_a_socket_read_comes_whole(self) -> None:
        # Four resources of 60 KB of attributes (a request body is at most 64 KiB): one data line of about 240 KB.
        prefix = unique()
        blobs = [str(i) * 60_000 for i in range(4)]
        for i, blob in enumerate(blobs):
            self.client.declare("%s/big-%d" % (prefix, i), {"blob": blob})
        stream = self.client.watch(prefix, snapshot=True)
        try:
            snapshot = next_within(stream)
            self.assertEqual(blobs, [r["attributes"]["blob"] for r in snapshot.resources])
        finally:
            stream.close()

    def test_close_from_another_thread_ends_a_loop_waiting_on_a_quiet_stream(self) -> None:
        proxy = FreezingProxy(server.url)  # (only to count the connections)
        stream = Client(proxy.url).watch(unique(), snapshot=True)
        seen: List[Event] = []
        ended = threading.Event()

        def consume() -> None:
            for event in stream:
                seen.append(event)
            ended.set()

        threading.Thread(target=consume, daemon=True).start()
        try:
            self.assertTrue(wait_until(lambda: len(seen) == 1, 10), "the snapshot came")
            # Nothing happens under the prefix: the loop waits in a read (keep-alives every second, no event).
            self.assertFalse(ended.wait(1.5))
            started = time.monotonic()
            stream.close()
            self.assertTrue(ended.wait(5), "the loop ended")
            self.assertLess(time.monotonic() - started, 1, "at once, not at the next keep-alive or the silence limit")
            self.assertEqual(1, proxy.connections, "and no stream followed")
        finally:
            proxy.close()

    def test_refusals_are_raised(self) -> None:
        with self.assertRaises(ValueError):
            self.client.watch("lab")
        with self.assertRaises(leasehold.InvalidPath):
            next_within(self.client.watch("/a//b"))
        with self.assertRaises(leasehold.Unreachable):
            next_within(Client(closed_port_url(), retries=1, retry_timeout=1, connect_timeout=1).watch("/"))


class WatchingWithoutTheRight(unittest.IsolatedAsyncioTestCase):
    async def test_a_key_without_the_read_right_is_refused_with_forbidden_by_both_clients(self) -> None:
        # Forbidden is also a PermissionError, an OSError: it must not be taken for a lost connection and retried.
        secured, key, _ = lock_only_server()
        try:
            started = time.monotonic()
            with self.assertRaises(leasehold.Forbidden):
                # (The blocking client off the loop's thread.)
                await asyncio.get_running_loop().run_in_executor(None, next_within, Client(secured.url, api_key=key).watch("/"))
            with self.assertRaises(leasehold.Forbidden):
                await asyncio.wait_for(aio.AsyncClient(secured.url, api_key=key).watch("/").__anext__(), 20)
            self.assertLess(time.monotonic() - started, 5, "refused at once, not after retries")
        finally:
            secured.stop()


class AsyncWatching(unittest.IsolatedAsyncioTestCase):
    async def test_a_snapshot_then_each_change_and_a_resume_after_lost_connections(self) -> None:
        client = aio.AsyncClient(server.url)
        proxy = CuttingProxy(server.url, cut_after=0.7)
        prefix = unique()
        stream = aio.AsyncClient(proxy.url).watch(prefix, snapshot=True)
        events: List[Event] = []

        async def consume() -> None:
            async for event in stream:
                events.append(event)
                if len(events) >= 7:
                    return

        async def until(condition: Any, what: str) -> None:
            deadline = time.monotonic() + 20
            while not condition():
                self.assertLess(time.monotonic(), deadline, what)
                await asyncio.sleep(0.05)

        consumer = asyncio.ensure_future(consume())
        try:
            await until(lambda: len(events) >= 1, "the snapshot")
            self.assertTrue(events[0].is_snapshot)
            for i in range(3):
                cuts = proxy.cuts
                async with client.acquire("%s/p%d" % (prefix, i), ttl=30):
                    pass
                await until(lambda: proxy.cuts > cuts or consumer.done(), "the proxy cut the stream")
            await asyncio.wait_for(consumer, 20)
            expected = [(t, ["%s/p%d" % (prefix, i)]) for i in range(3) for t in ("granted", "released")]
            self.assertEqual(expected, changes(events[1:]))
            revisions = [e.revision for e in events]
            self.assertEqual(sorted(set(revisions)), revisions)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await stream.aclose()
            proxy.close()

    async def test_a_silent_stream_is_given_up(self) -> None:
        proxy = FreezingProxy(server.url)
        prefix = unique()
        stream = aio.AsyncClient(proxy.url).watch(prefix, snapshot=True)
        try:
            await asyncio.wait_for(stream.__anext__(), 20)
            proxy.freeze()
            async with aio.AsyncClient(server.url).acquire(prefix + "/meanwhile", ttl=30):
                pass
            granted = await asyncio.wait_for(stream.__anext__(), 30)
            self.assertEqual(("granted", [prefix + "/meanwhile"]), (granted.type, granted.paths))
            self.assertEqual(2, proxy.connections)
        finally:
            await stream.aclose()
            proxy.close()

    async def test_a_snapshot_comes_whole_and_even_when_the_first_stream_is_lost_before_it(self) -> None:
        prefix = unique()
        blobs = [str(i) * 60_000 for i in range(4)]
        for i, blob in enumerate(blobs):
            await aio.AsyncClient(server.url).declare("%s/big-%d" % (prefix, i), {"blob": blob})
        proxy = HeadersOnlyProxy(server.url, cut=1)
        stream = aio.AsyncClient(proxy.url).watch(prefix, snapshot=True)
        try:
            first = await asyncio.wait_for(stream.__anext__(), 20)
            self.assertTrue(first.is_snapshot, repr(first))
            self.assertEqual(blobs, [r["attributes"]["blob"] for r in first.resources])
            self.assertEqual(2, proxy.connections)
        finally:
            await stream.aclose()
            proxy.close()

    async def test_a_refusal_is_raised(self) -> None:
        with self.assertRaises(leasehold.InvalidPath):
            await asyncio.wait_for(aio.AsyncClient(server.url).watch("/a//b").__anext__(), 20)


if __name__ == "__main__":
    unittest.main()
