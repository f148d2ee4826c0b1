"""The blocking client against a real server (started by tests/server.py)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import unittest
from typing import Any, Dict, List, Optional

import leasehold
from leasehold import Client, Group

from server import ServerProcess, closed_port_url, unique, wait_until

server: ServerProcess


def setUpModule() -> None:
    global server
    server = ServerProcess().start()


def tearDownModule() -> None:
    server.stop()


class TakeAndRelease(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)

    def test_context_manager_takes_and_releases(self) -> None:
        path = unique()
        with self.client.acquire(path, ttl=30, owner="py-test") as lease:
            self.assertGreater(lease.fence, 0)
            self.assertEqual([path], lease.paths)
            self.assertEqual(32, len(lease.token))
            holders = server.http("GET", "/v1/resources" + path)["holders"]
            self.assertEqual([lease.id], [h["id"] for h in holders])
            self.assertEqual("py-test", holders[0]["owner"])
        self.assertEqual([], server.http("GET", "/v1/resources" + path)["holders"])
        self.assertIsNone(self.client.get_lease(lease.id))
        self.assertFalse(lease.is_lost, "a released lease is not lost")

    def test_module_level_lease_uses_LEASEHOLD_SERVER(self) -> None:
        old = os.environ.get("LEASEHOLD_SERVER")
        os.environ["LEASEHOLD_SERVER"] = closed_port_url() + "," + server.url
        leasehold.client._default = None
        try:
            path = unique()
            with leasehold.lease(path, ttl=30, wait=5) as l:
                self.assertTrue(self.client.fence_is_current(path, l.fence))
            self.assertEqual(2, len(leasehold.default_client().servers))
        finally:
            leasehold.client._default = None
            if old is None:
                del os.environ["LEASEHOLD_SERVER"]
            else:
                os.environ["LEASEHOLD_SERVER"] = old

    def test_waiting_then_locked_is_a_typed_timeout(self) -> None:
        path = unique()
        with self.client.acquire(path, ttl=30) as held:
            started = time.monotonic()
            with self.assertRaises(leasehold.Locked) as caught:
                self.client.acquire(path, ttl=30, wait=0.5)
            self.assertGreaterEqual(time.monotonic() - started, 0.45)
            self.assertIsInstance(caught.exception, TimeoutError)
            self.assertEqual("locked", caught.exception.code)
            self.assertEqual(409, caught.exception.status)
            self.assertEqual([held.id], [h["id"] for h in caught.exception.holders])
            self.assertIsNone(self.client.try_acquire(path, ttl=30))

    def test_a_waiter_is_granted_when_the_holder_releases(self) -> None:
        path = unique()
        first = self.client.acquire(path, ttl=30)
        got: List[leasehold.Lease] = []
        waiter = threading.Thread(target=lambda: got.append(self.client.acquire(path, ttl=30, wait=20)), daemon=True)
        waiter.start()
        self.assertTrue(wait_until(lambda: len(server.http("GET", "/v1/resources" + path)["queue"]) == 1, 10))
        first.release()
        waiter.join(20)
        self.assertEqual(1, len(got))
        self.assertGreater(got[0].fence, first.fence)
        got[0].release()

    def test_shared_and_several_paths(self) -> None:
        a, b = unique(), unique()
        with self.client.acquire([a, b], shared=True, ttl=30) as one, self.client.acquire(a, shared=True, ttl=30) as two:
            self.assertEqual([a, b], one.paths)
            self.assertNotEqual(one.id, two.id)
            with self.assertRaises(leasehold.Locked):
                self.client.acquire(b, ttl=30)


class LostLeases(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)

    def test_ttl_expiry_fires_the_lost_callback(self) -> None:
        path = unique()
        calls: List[Any] = []
        lease = self.client.acquire(path, ttl=1, renew=False, on_lost=calls.append)
        self.assertTrue(lease.lost.wait(5), "the lost event fires when the ttl runs out")
        self.assertEqual([lease], calls)
        # The server ended it too: another holder gets the path.
        self.assertTrue(wait_until(lambda: self.client.try_acquire(path, ttl=30) is not None, 5))

    def test_renewals_keep_a_ttl_lease_beyond_its_ttl(self) -> None:
        path = unique()
        with self.client.acquire(path, ttl=1) as lease:
            self.assertFalse(lease.lost.wait(2.5), "renewed every third of its ttl")
            self.assertIsNotNone(self.client.get_lease(lease.id))
            with self.assertRaises(leasehold.Locked):
                self.client.acquire(path, ttl=30)

    def test_a_revoked_lease_is_lost(self) -> None:
        lease = self.client.acquire(unique(), ttl=3)
        fired = threading.Event()
        lease.add_lost_callback(lambda l: fired.set())
        server.http("DELETE", "/v1/admin/leases/%d" % lease.id)
        self.assertTrue(fired.wait(5), "the next renewal's not-found says it is gone")
        lease.release()  # gone already: not an error

    def test_a_lease_bound_to_a_session_released_elsewhere_is_lost(self) -> None:
        with self.client.session(ttl=1) as s:
            lease = s.acquire(unique())
            Client(server.url).release(lease.id, lease.token)
            self.assertTrue(lease.lost.wait(5))
            self.assertFalse(s.is_lost)

    def test_the_server_dying_makes_the_lease_lost(self) -> None:
        own = ServerProcess().start()
        try:
            lease = Client(own.url, retries=1, connect_timeout=0.5).acquire(unique(), ttl=1.5)
            own.kill()
            started = time.monotonic()
            self.assertTrue(lease.lost.wait(5))
            self.assertLess(time.monotonic() - started, 2.0, "lost no later than the ttl after the last renewal")
        finally:
            own.stop()


class Sessions(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)

    def test_a_session_is_kept_alive_beyond_its_ttl(self) -> None:
        path = unique()
        with self.client.session(ttl=1, owner="py-keeper") as s:
            lease = s.acquire(path)
            self.assertEqual(s.id, lease.session_id)
            self.assertFalse(s.lost.wait(2.5), "kept alive by the background thread")
            self.assertIsNotNone(self.client.get_lease(lease.id))
            listed = server.http("GET", "/v1/admin/sessions?owner=py-keeper")["sessions"]
            self.assertIn(s.id, [x["id"] for x in listed])
        self.assertIsNone(self.client.get_lease(lease.id), "closing the session ended its lease")

    def test_a_lease_without_ttl_lives_on_a_session_of_its_own(self) -> None:
        client = Client(server.url, session_ttl=1)
        path = unique()
        with client.acquire(path) as lease:
            self.assertIsNone(lease.ttl)
            self.assertIsNotNone(lease.session)
            self.assertFalse(lease.lost.wait(2.5))
            self.assertIsNotNone(client.get_lease(lease.id))
            session_id = lease.session_id
        # Releasing closed the lease's own session.
        with self.assertRaises(leasehold.NotFound):
            client._transport.call("POST", "/v1/sessions/%d/keepalive" % session_id, None, token=lease.session.token)

    def test_a_session_that_dies_ends_its_leases(self) -> None:
        s = self.client.session(ttl=1)
        one, two = s.acquire(unique()), s.acquire(unique(), ttl=30)
        session_lost = threading.Event()
        s.add_lost_callback(lambda _: session_lost.set())
        server.http("DELETE", "/v1/admin/sessions/%d" % s.id)
        self.assertTrue(session_lost.wait(5))
        self.assertTrue(one.lost.wait(2))
        self.assertTrue(two.lost.wait(2))
        self.assertIsNone(self.client.get_lease(one.id))
        self.assertIsNone(self.client.get_lease(two.id))
        with self.client.acquire(one.path, ttl=30, wait=2):
            pass
        s.close()

    def test_a_waiting_acquire_keeps_its_session_alive(self) -> None:
        client = Client(server.url, session_ttl=1)
        path = unique()
        holder = client.acquire(path, ttl=30)
        threading.Timer(2.5, holder.release).start()
        with client.acquire(path, wait=10) as lease:  # waits longer than the session's ttl
            self.assertIsNotNone(client.get_lease(lease.id))


def lock_only_server() -> "tuple[ServerProcess, str, str]":
    """A secured server where ``py`` may only lock (no ``read``: a GET of a lease is forbidden to it) and ``ops``
    administers; and the two API keys."""
    import hashlib

    keys = {"pybot": ("py", "lh_pybot_" + "L" * 43), "opsbot": ("ops", "lh_opsbot_" + "O" * 43)}
    settings = []
    for name, (principal, key) in keys.items():
        settings.append("--Leasehold:Security:ApiKeys:%s:Hash=sha256:%s" % (name, hashlib.sha256(key.encode()).hexdigest()))
        settings.append("--Leasehold:Security:ApiKeys:%s:Principal=%s" % (name, principal))
    settings += [
        "--Leasehold:Security:Rules:0:Who:0=py",
        "--Leasehold:Security:Rules:0:Prefix=/**",
        "--Leasehold:Security:Rules:0:Rights:0=lock",
        "--Leasehold:Security:Rules:1:Who:0=ops",
        "--Leasehold:Security:Rules:1:Prefix=/**",
        "--Leasehold:Security:Rules:1:Rights:0=admin",
    ]
    return ServerProcess(*settings).start(), keys["pybot"][1], keys["opsbot"][1]


class LockOnlyRights(unittest.TestCase):
    def test_a_revoked_lease_of_a_session_is_lost_alone_without_the_read_right(self) -> None:
        secured, key, admin_key = lock_only_server()
        try:
            client = Client(secured.url, api_key=key)
            with client.session(ttl=1.5) as s:
                kept, revoked = s.acquire(unique()), s.acquire(unique())
                with self.assertRaises(leasehold.Forbidden):
                    client.get_lease(kept.id)  # the rights under test: no read
                Client(secured.url, api_key=admin_key)._transport.call("DELETE", "/v1/admin/leases/%d" % revoked.id)
                self.assertTrue(revoked.lost.wait(5), "the revoked lease is found out without reading it")
                # Two session ttls more: the session is kept alive and the other lease is not given up.
                self.assertFalse(s.lost.wait(3.5), "the session was given up although its keep-alives got through")
                self.assertFalse(kept.is_lost)
                kept.renew()  # still held on the server
        finally:
            secured.stop()


class Pools(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)
        self.pool = unique("/pylab")
        self.client.declare(self.pool + "/phone-1", {"id": "phone-1", "kind": "phone", "os": "android", "online": True})
        self.client.declare(self.pool + "/phone-2", {"id": "phone-2", "kind": "phone", "os": "ios", "online": True})
        self.client.declare(self.pool + "/sim-1", {"id": "sim-1", "kind": "sim"})
        self.client.declare(self.pool + "/sim-2", {"id": "sim-2", "kind": "sim"})

    def test_a_requirement_picks_a_matching_resource(self) -> None:
        with self.client.acquire(pool=self.pool, require="os=android&online=true", ttl=30) as phone:
            self.assertEqual([self.pool + "/phone-1"], [r.path for r in phone.resources])
            self.assertEqual("phone-1", phone.resources[0].id)
            self.assertEqual("android", phone.resources[0].get("os"))
            with self.assertRaises(leasehold.Locked):
                self.client.acquire(pool=self.pool, require={"os": "android"}, ttl=30, wait=0.3)

    def test_groups_and_counts(self) -> None:
        groups = [Group(self.pool, {"kind": "phone", "os": "ios"}), Group(self.pool, "kind=sim", count=2)]
        with self.client.acquire(groups=groups, ttl=30) as rig:
            chosen = sorted(r.path for r in rig.resources)
            self.assertEqual(sorted([self.pool + "/phone-2", self.pool + "/sim-1", self.pool + "/sim-2"]), chosen)
            self.assertEqual({0, 1}, {r.group for r in rig.resources})

    def test_no_match_and_invalid_query_are_typed(self) -> None:
        with self.assertRaises(leasehold.NoMatch) as caught:
            self.client.acquire(pool=self.pool, require={"os": "windows"}, ttl=30, wait=5)
        self.assertEqual(422, caught.exception.status)
        with self.assertRaises(leasehold.InvalidQuery) as bad:
            self.client.acquire(pool=self.pool, require={"os": {"$foo": 1}}, ttl=30)
        self.assertIn("$foo", str(bad.exception))
        self.assertIsInstance(bad.exception, ValueError)

    def test_a_held_resource_cannot_be_removed(self) -> None:
        with self.client.acquire(pool=self.pool, require="kind=sim", ttl=30) as sim:
            with self.assertRaises(leasehold.ResourceBusy):
                self.client.undeclare(sim.resources[0].path)
        self.assertEqual(4, len(self.client.pool_resources(self.pool)))


class Migration(unittest.TestCase):
    """The recipes of the documentation's migration section, run as written there."""

    def setUp(self) -> None:
        self.client = Client(server.url)
        self.pool = unique("/pymig")

    def test_py_lockable_requirements_with_its_defaults(self) -> None:
        from leasehold import lockable

        self.assertEqual({"a": {"b": "1"}, "c": True}, lockable.parse_requirements("a.b=1&c=TRUE"))
        self.assertEqual({"online": True, "os": "a"}, lockable.requirement({"os": "a", "hostname": None}))
        self.assertEqual({"hostname": "rig", "online": True, "os": "android"}, lockable.requirement("os=android", hostname="rig"))
        self.assertEqual({"hostname": "rig", "os": "a"}, lockable.requirement({"os": "a", "online": None}, hostname="rig"))
        with self.assertRaises(ValueError):
            lockable.parse_requirements("a=")
        self.client.declare(self.pool + "/1", {"id": "1", "hostname": "rig", "online": True, "os": "android"})
        self.client.declare(self.pool + "/2", {"id": "2", "hostname": "rig", "online": False, "os": "android"})
        self.client.declare(self.pool + "/3", {"id": "3", "hostname": "other", "online": True, "os": "android"})
        # Lockable(hostname="rig").auto_lock("os=android", timeout_s=5) becomes:
        with self.client.acquire(pool=self.pool, require=lockable.requirement("os=android", "rig"), wait=5) as allocation:
            self.assertEqual("1", allocation.resources[0].id)
            # The only match is taken: py-lockable's TimeoutError is Locked, which is a TimeoutError.
            with self.assertRaises(TimeoutError):
                self.client.acquire(pool=self.pool, require=lockable.requirement("os=android", "rig"), wait=0.2)
        # py-lockable's ResourceNotFound is NoMatch.
        with self.assertRaises(leasehold.NoMatch):
            self.client.acquire(pool=self.pool, require=lockable.requirement("os=ios", "rig"))

    def test_idserver_clients_ids_with_reuse(self) -> None:
        for i in range(2):
            self.client.declare("%s/name-%d" % (self.pool, i), {"id": "name-%d" % i})
        # UdpIdClient(host, port).acquire("client-1", 60) becomes:
        first = self.client.acquire(pool=self.pool, owner="client-1", ttl=60, reuse=True, renew=False)
        again = self.client.acquire(pool=self.pool, owner="client-1", ttl=60, reuse=True, renew=False)
        self.assertEqual((first.id, first.resources[0].id), (again.id, again.resources[0].id), "the same owner gets its id again, renewed")
        other = self.client.acquire(pool=self.pool, owner="client-2", ttl=60, reuse=True, renew=False)
        self.assertNotEqual(first.resources[0].id, other.resources[0].id)
        # idserver's "id exhausted" is Locked (or wait= queues for the next free id).
        with self.assertRaises(leasehold.Locked):
            self.client.acquire(pool=self.pool, owner="client-3", ttl=60, reuse=True)
        # release("client-1"): acquiring with reuse gives the lease and its token back, release ends it.
        self.client.acquire(pool=self.pool, owner="client-1", ttl=60, reuse=True, renew=False).release()
        self.assertIsNone(self.client.get_lease(first.id))
        other.release()


class ReuseWithoutTtl(unittest.TestCase):
    def test_a_lease_handed_back_under_another_session_is_not_lost(self) -> None:
        client = Client(server.url, session_ttl=1)
        pool, owner = unique("/pyreuse"), "py-reuse-" + unique("x")[3:]
        client.declare(pool + "/id-1", {"id": "id-1"})
        first = client.acquire(pool=pool, owner=owner, reuse=True)
        again = client.acquire(pool=pool, owner=owner, reuse=True)
        self.assertEqual(first.id, again.id, "the same owner gets its lease back")
        self.assertEqual(first.session_id, again.session_id)
        self.assertIs(first.session, again.session, "kept alive by the session it is bound to")
        self.assertFalse(again.lost.wait(2.5), "lost although the lease lives on under its first session")
        sessions = server.http("GET", "/v1/admin/sessions?owner=" + owner)["sessions"]
        self.assertEqual([first.session_id], [x["id"] for x in sessions], "the second acquire's own session was closed")
        again.release()
        self.assertIsNone(client.get_lease(first.id))
        self.assertTrue(first.lost.wait(5), "released through the other handle")
        first.release()


class Errors(unittest.TestCase):
    def setUp(self) -> None:
        self.client = Client(server.url)

    def test_bad_input_raises_the_typed_exception_of_its_problem_code(self) -> None:
        with self.assertRaises(leasehold.InvalidPath) as caught:
            self.client.acquire("no-slash", ttl=30)
        self.assertEqual(("invalid-path", 400), (caught.exception.code, caught.exception.status))
        self.assertIsInstance(caught.exception, ValueError)
        self.assertIn("starts with '/'", str(caught.exception))
        with self.assertRaises(leasehold.InvalidArgument):
            self.client.acquire(unique(), ttl=-1)
        with self.assertRaises(leasehold.InvalidArgument):
            self.client.acquire(unique(), shared=True, limit=3, ttl=30)
        with self.assertRaises(leasehold.NotFound):
            self.client.renew(999999999, "0" * 32)
        with self.client.acquire(unique(), ttl=30) as lease:
            with self.assertRaises(leasehold.InvalidToken):
                self.client.release(lease.id, "f" * 32)
        with self.assertRaises(ValueError):
            self.client.acquire()  # neither a path nor a pool: refused before any request

    def test_every_code_of_the_catalogue_has_an_exception(self) -> None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        doc = os.path.join(root, "docs", "http-api.md")
        if not os.path.exists(doc):
            self.skipTest("outside the repository")
        with open(doc, encoding="utf-8") as f:
            text = f.read()
        errors = text[text.index("## Errors"):]
        table = errors[: errors.index("The [native protocol]")]
        codes = re.findall(r"^\| `([a-z-]+)` \| (\d+) \|", table, re.M)
        self.assertGreater(len(codes), 15)
        generic = {"method-not-allowed"}  # the client never sends a method a route lacks
        for code, _ in codes:
            if code not in generic:
                cls = leasehold.error_class(code)
                self.assertIsNot(leasehold.LeaseholdError, cls, code)
                self.assertEqual(code, cls(code, code=code).code)

    def test_a_server_that_does_not_answer_is_unreachable(self) -> None:
        url = closed_port_url()
        client = Client(url, retries=2, retry_timeout=2, connect_timeout=1)
        started = time.monotonic()
        with self.assertRaises(leasehold.Unreachable) as caught:
            client.acquire(unique(), ttl=30)
        self.assertIsInstance(caught.exception, ConnectionError)
        self.assertEqual(("unreachable", 0), (caught.exception.code, caught.exception.status))
        self.assertIn(url, str(caught.exception))
        self.assertLess(time.monotonic() - started, 5)

    def test_only_http_servers_are_accepted(self) -> None:
        with self.assertRaises(ValueError) as caught:
            Client("leasehold://127.0.0.1:8766")
        self.assertIn("http://", str(caught.exception))
        self.assertEqual(["http://a:1", "https://b/prefix"], Client(" http://a:1/ , https://b/prefix/").servers)


class Ipv6(unittest.TestCase):
    def test_the_host_header_brackets_an_ipv6_address(self) -> None:
        from leasehold._common import host_header

        self.assertEqual("[::1]:8765", host_header("http", "::1", 8765))
        self.assertEqual("[::1]", host_header("http", "::1", 80))
        self.assertEqual("[::1]:443", host_header("http", "::1", 443), "443 is not http's own port")
        self.assertEqual("locks.example", host_header("https", "locks.example", 443))
        self.assertEqual("127.0.0.1:8765", host_header("http", "127.0.0.1", 8765))

    def test_a_server_on_ipv6_loopback_is_reached_by_both_clients(self) -> None:
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback on this machine")
        own = ServerProcess(urls="http://[::1]:0").start()
        try:
            self.assertTrue(own.url.startswith("http://[::1]:"), own.url)
            with Client(own.url).acquire(unique(), ttl=30) as lease:
                self.assertGreater(lease.fence, 0)
            import asyncio

            from leasehold import aio

            async def take() -> int:
                async with aio.AsyncClient(own.url).acquire(unique(), ttl=30) as l:
                    return l.fence

            self.assertGreater(asyncio.run(take()), 0)
        finally:
            own.stop()


class Failover(unittest.TestCase):
    def test_a_dead_server_is_skipped(self) -> None:
        client = Client([closed_port_url(), server.url], connect_timeout=1)
        with client.acquire(unique(), ttl=30) as lease:
            self.assertGreater(lease.fence, 0)
        self.assertEqual(server.url, client._transport.servers.pick()[1], "later requests stay with the server that answered")

    def test_an_acquire_whose_answer_is_lost_is_retried_without_a_second_lease(self) -> None:
        proxy = _DroppingProxy(server.url, drop_first=1)
        try:
            client = Client(proxy.url, owner="py-idem-" + unique("x")[3:], retries=3)
            lease = client.acquire(unique(), ttl=30)
            # The acquire, its retry, and the renewal that restarts the ttl of a retried acquire's lease.
            self.assertEqual(3, proxy.forwarded, "the first answer was dropped, the retry got one")
            held = server.http("GET", "/v1/admin/leases?owner=" + lease.owner)["leases"]
            self.assertEqual([lease.id], [l["id"] for l in held], "the retry got the first try's lease, not a second")
            Client(server.url).release(lease.id, lease.token)
        finally:
            proxy.close()

    def test_the_api_key_is_sent_as_a_bearer_credential(self) -> None:
        import hashlib

        key = "lh_pybot_" + "A" * 43
        digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        secured = ServerProcess(
            "--Leasehold:Security:ApiKeys:pybot:Hash=" + digest,
            "--Leasehold:Security:ApiKeys:pybot:Principal=py",
            "--Leasehold:Security:Rules:0:Who:0=py",
            "--Leasehold:Security:Rules:0:Prefix=/**",
            "--Leasehold:Security:Rules:0:Rights:0=lock",
        ).start()
        try:
            with self.assertRaises(leasehold.AuthenticationFailed) as caught:
                Client(secured.url, api_key="").acquire(unique(), ttl=30)
            self.assertEqual("unauthenticated", caught.exception.code)
            with self.assertRaises(leasehold.AuthenticationFailed) as wrong:
                Client(secured.url, api_key="lh_pybot_" + "B" * 43).acquire(unique(), ttl=30)
            self.assertEqual("invalid-credentials", wrong.exception.code)
            with Client(secured.url, api_key=key).acquire(unique(), ttl=30) as lease:
                self.assertEqual("py", lease.data["principal"])
        finally:
            secured.stop()


class _LoopbackProxy:
    """A proxy on a free loopback port in front of the server at ``target`` (``http://host:port``): accepts connections
    until closed and hands each to ``_accepted``, on the accepting thread."""

    def __init__(self, target: str, backlog: int = 16) -> None:
        host, port = target[len("http://"):].split(":")
        self._target = (host, int(port))
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(backlog)
        self.url = "http://127.0.0.1:%d" % self._listener.getsockname()[1]

    def _start(self) -> None:
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._accepted(conn)

    def _accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._listener.close()


class CuttingProxy(_LoopbackProxy):
    """Forwards connections to the server both ways and cuts each ``cut_after`` seconds after it was made: a proxy
    that closes long requests. ``cuts`` counts the connections it cut."""

    def __init__(self, target: str, cut_after: float) -> None:
        super().__init__(target)
        self._cut_after = cut_after
        self.cuts = 0
        self._lock = threading.Lock()
        self._start()

    def _accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn: socket.socket) -> None:
        import select

        deadline = time.monotonic() + self._cut_after
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            conn.close()
            return
        with conn, upstream:
            peers = {conn: upstream, upstream: conn}
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    with self._lock:
                        self.cuts += 1
                    return
                readable, _, _ = select.select(list(peers), [], [], left)
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                        if data:
                            peers[sock].sendall(data)
                    except OSError:
                        data = b""
                    if not data:
                        return


class CutWaits(unittest.TestCase):
    def test_a_waiting_acquire_outlasts_a_proxy_that_cuts_every_request(self) -> None:
        proxy = CuttingProxy(server.url, cut_after=0.5)
        try:
            path = unique()
            holder = Client(server.url).acquire(path, ttl=30)
            # One retry per request: without asking again, the second cut ends the acquire.
            client = Client(proxy.url, retries=1, retry_timeout=5)
            got: List[Any] = []

            def take() -> None:
                try:
                    got.append(client.acquire(path, ttl=30, wait=20))
                except Exception as error:  # noqa: BLE001 - reported by the assertion below
                    got.append(error)

            waiter = threading.Thread(target=take, daemon=True)
            waiter.start()
            self.assertTrue(wait_until(lambda: proxy.cuts >= 4 or bool(got), 10), "four requests cut")
            self.assertEqual([], got, "the acquire ended while the path was held")
            holder.release()
            waiter.join(20)
            self.assertEqual(1, len(got))
            self.assertIsInstance(got[0], leasehold.Lease, repr(got[0]))
            self.assertGreater(got[0].fence, holder.fence)
            Client(server.url).release(got[0].id, got[0].token)
        finally:
            proxy.close()


class TricklingProxy(_LoopbackProxy):
    """Forwards each request to the server until ``trickle`` is set; from then on it answers each request with a status
    line one byte every 0.2 s (each within any socket timeout, the whole never), for at most a minute."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.trickle = False
        self._closed = False
        self._start()

    def _accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(30)
                request = _read_message(conn)
                if not self.trickle:
                    with socket.create_connection(self._target, timeout=30) as upstream:
                        upstream.sendall(request)
                        conn.sendall(_read_message(upstream))
                    return
                for _ in range(300):
                    if self._closed:
                        return
                    conn.sendall(b"H")
                    time.sleep(0.2)
            except OSError:
                return

    def close(self) -> None:
        self._closed = True
        super().close()


class LostInTime(unittest.TestCase):
    def test_a_renewal_whose_answer_trickles_does_not_hold_the_loss_back(self) -> None:
        proxy = TricklingProxy(server.url)
        try:
            lease = Client(proxy.url).acquire(unique(), ttl=1.5)
            proxy.trickle = True
            last_renewal = time.monotonic()
            self.assertTrue(lease.lost.wait(5), "lost while no renewal gets through")
            self.assertLess(time.monotonic() - last_renewal, 2.2, "lost no later than a ttl after the last renewal that got through")
        finally:
            proxy.close()


class _DroppingProxy(_LoopbackProxy):
    """Forwards each HTTP request to the server, but closes the first ``drop_first`` connections after the
    server answered, without passing the answer on: a reply lost in the network."""

    def __init__(self, target: str, drop_first: int) -> None:
        super().__init__(target, backlog=8)
        self._drop = drop_first
        self.forwarded = 0
        self._start()

    def _accepted(self, conn: socket.socket) -> None:
        # One connection at a time, on the accepting thread: the count decides which answers are dropped.
        with conn:
            conn.settimeout(30)
            request = _read_message(conn)
            with socket.create_connection(self._target, timeout=30) as upstream:
                upstream.sendall(request)
                answer = _read_message(upstream)
            self.forwarded += 1
            if self.forwarded <= self._drop:
                return
            conn.sendall(answer)


def _read_message(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    while (len(rest) < length) or (chunked and not rest.endswith(b"0\r\n\r\n")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


if __name__ == "__main__":
    unittest.main()
