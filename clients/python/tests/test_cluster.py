"""A cluster of three real nodes over HTTPS whose callers are named by client certificates. A follower cannot
forward such a caller (the certificate does not travel with a forwarded request): it redirects it to the leader
with a 307. The client, given every node, follows, for requests and for a watch, in both transports; given only
a follower, it says where it was sent instead of taking the redirect for an answer."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import List, Optional

from leasehold import Client, LeaseholdError, aio

from server import ServerProcess, cli_dll, free_ports, unique, wait_until

certs = ""
nodes: List[ServerProcess] = []
leader = follower = ""


def _cli(*args: str) -> None:
    subprocess.run(["dotnet", cli_dll(), *args], check=True, timeout=120, stdout=subprocess.DEVNULL)


def _view(url: str) -> dict:
    """A node's cluster view as its readiness reports it to alice (with security on, only readers see it); {} if none."""
    context = ssl.create_default_context(cafile=os.path.join(certs, "ca", "ca.crt"))
    context.load_cert_chain(os.path.join(certs, "alice.crt"), os.path.join(certs, "alice.key"))
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=2, context=context) as answer:
            return json.loads(answer.read()).get("cluster") or {}
    except urllib.error.HTTPError as refused:
        try:
            return json.loads(refused.read()).get("cluster") or {}
        except ValueError:
            return {}
    except (OSError, ValueError):
        return {}


def setUpModule() -> None:
    global certs, leader, follower
    certs = tempfile.mkdtemp(prefix="leasehold-py-certs-")
    _cli("certs", "ca", "--out", os.path.join(certs, "ca"))
    _cli("certs", "issue", "--ca", os.path.join(certs, "ca"), "--name", "localhost", "--ip", "127.0.0.1", "--out", certs)
    _cli("certs", "issue", "--ca", os.path.join(certs, "ca"), "--name", "alice", "--client", "--out", certs)
    ports = free_ports(6)
    raft, http = ports[:3], ports[3:]
    members = ",".join("127.0.0.1:%d" % p for p in raft)
    try:
        for i in range(3):
            nodes.append(ServerProcess(
                "--cluster-node", "127.0.0.1:%d" % raft[i], "--cluster-members", members,
                "--tls-cert", os.path.join(certs, "localhost.crt"), "--tls-key", os.path.join(certs, "localhost.key"),
                "--Leasehold:Tls:ClientCaFile=" + os.path.join(certs, "ca", "ca.crt"),
                "--Leasehold:Security:Rules:0:Who:0=alice", "--Leasehold:Security:Rules:0:Rights:0=lock",
                "--Leasehold:Security:Rules:0:Rights:1=read",
                urls="https://127.0.0.1:%d" % http[i],
            ))
        threads = [threading.Thread(target=n.start) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert all(n.url for n in nodes), "a node did not start"
    except BaseException:
        tearDownModule()
        raise


def tearDownModule() -> None:
    for n in nodes:
        n.stop()
    shutil.rmtree(certs, ignore_errors=True)


def _roles() -> None:
    """Finds the leader and a follower that follows it (again before each test: the busy machine may re-elect)."""
    global leader, follower

    def settled() -> bool:
        global leader, follower
        views = {n.url: _view(n.url) for n in nodes}
        leaders = [url for url, view in views.items() if view.get("role") == "leader"]
        # A follower that can send callers to the leader: it knows the leader's address.
        followers = [url for url, view in views.items() if view.get("role") == "follower" and leaders and view.get("leaderUrl") == leaders[0]]
        if len(leaders) != 1 or not followers:
            return False
        leader, follower = leaders[0], followers[0]
        return True

    assert wait_until(settled, 60), "no leader with a follower that follows it within 60 s"


def _client(servers: List[str]) -> Client:
    return Client(servers, ca_file=os.path.join(certs, "ca", "ca.crt"), cert_file=os.path.join(certs, "alice.crt"),
                  key_file=os.path.join(certs, "alice.key"), retries=2, retry_timeout=5)


class RedirectTests(unittest.TestCase):
    def setUp(self) -> None:
        _roles()

    def test_a_client_given_every_node_follows_the_redirect_and_stays_with_the_leader(self) -> None:
        client = _client([follower, leader])
        path = unique("/py/cluster")
        lease = client.acquire(path, ttl=60)
        try:
            self.assertEqual(lease.data["principal"], "alice")
            self.assertEqual(client._transport.servers.pick()[1], leader)
            holders = client.resource(path)["holders"]
            self.assertEqual([h["id"] for h in holders], [lease.id])
        finally:
            lease.release()
        self.assertEqual(client.resource(path)["holders"], [])

    def test_a_client_given_only_a_follower_says_where_it_was_sent(self) -> None:
        client = _client([follower])
        with self.assertRaises(LeaseholdError) as refused:
            client.acquire(unique("/py/cluster"), ttl=60)
        self.assertEqual((refused.exception.code, refused.exception.status), ("http-307", 307))
        self.assertIn(leader, str(refused.exception))

    def test_a_watch_opened_at_a_follower_goes_to_the_leader(self) -> None:
        # The watching client has not been sent anywhere yet: its stream opens at the follower.
        client, holder = _client([follower, leader]), _client([leader])
        prefix = unique("/py/cluster-watch")
        first = holder.acquire(prefix + "/a", ttl=60)
        second = None
        self.assertEqual(client._transport.servers.pick()[1], follower)
        with client.watch(prefix, snapshot=True) as events:
            deadline = time.monotonic() + 30
            for event in events:
                self.assertLess(time.monotonic(), deadline, "no granted event within 30 s")
                if event.is_snapshot:
                    # The stream is open (on the leader): what is held shows, and what comes next is told.
                    self.assertIn(first.id, [h["id"] for h in event.holders])
                    second = holder.acquire(prefix + "/b", ttl=60)
                elif event.type == "granted" and second is not None:
                    self.assertEqual((event.lease or {}).get("id"), second.id)
                    break
        self.assertEqual(client._transport.servers.pick()[1], leader)
        first.release()
        if second is not None:
            second.release()

    def test_the_asyncio_client_follows_the_redirect(self) -> None:
        def client() -> aio.AsyncClient:
            return aio.AsyncClient([follower, leader], ca_file=os.path.join(certs, "ca", "ca.crt"),
                                   cert_file=os.path.join(certs, "alice.crt"), key_file=os.path.join(certs, "alice.key"),
                                   retries=2, retry_timeout=5)

        async def main() -> None:
            async with client() as holder, client() as watcher:
                path = unique("/py/cluster-aio")
                lease = await holder.acquire(path, ttl=60)
                self.assertEqual(lease.data["principal"], "alice")
                await lease.release()
                # The watcher has not been sent anywhere yet: its stream opens at the follower.
                prefix = unique("/py/cluster-aio-watch")
                events = watcher.watch(prefix, snapshot=True)
                taken = None
                while True:
                    event = await asyncio.wait_for(events.__anext__(), 30)
                    if event.is_snapshot:
                        taken = await holder.acquire(prefix + "/a", ttl=60)
                    elif event.type == "granted" and taken is not None:
                        self.assertEqual((event.lease or {}).get("id"), taken.id)
                        break
                await events.aclose()
                assert taken is not None
                await taken.release()

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
