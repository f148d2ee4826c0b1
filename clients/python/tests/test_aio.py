"""The asyncio client against a real server."""

from __future__ import annotations

import asyncio
import time
import unittest
from typing import Any, List

import leasehold
from leasehold import Group, aio

from server import ServerProcess, closed_port_url, unique

server: ServerProcess


def setUpModule() -> None:
    global server
    server = ServerProcess().start()


def tearDownModule() -> None:
    server.stop()


async def eventually(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


class AsyncClientTests(unittest.IsolatedAsyncioTestCase):
    def setUp(self) -> None:
        self.client = aio.AsyncClient(server.url)

    async def test_async_with_takes_and_releases(self) -> None:
        path = unique()
        async with self.client.acquire(path, ttl=30, owner="py-async") as lease:
            self.assertGreater(lease.fence, 0)
            self.assertEqual([lease.id], [h["id"] for h in server.http("GET", "/v1/resources" + path)["holders"]])
            with self.assertRaises(leasehold.Locked):
                await self.client.acquire(path, ttl=30, wait=0.3)
            self.assertIsNone(await self.client.try_acquire(path, ttl=30))
        self.assertIsNone(await self.client.get_lease(lease.id))

    async def test_ttl_expiry_sets_the_lost_event_and_runs_callbacks(self) -> None:
        calls: List[Any] = []

        async def on_lost(lease: aio.AsyncLease) -> None:
            calls.append(lease)

        lease = await self.client.acquire(unique(), ttl=1, renew=False, on_lost=on_lost)
        await asyncio.wait_for(lease.lost.wait(), 5)
        self.assertTrue(await eventually(lambda: calls == [lease], 2))

    async def test_a_revoked_lease_is_lost(self) -> None:
        lease = await self.client.acquire(unique(), ttl=3)
        server.http("DELETE", "/v1/admin/leases/%d" % lease.id)
        await asyncio.wait_for(lease.lost.wait(), 5)
        await lease.release()

    async def test_a_lease_without_ttl_is_kept_alive_past_its_session_ttl(self) -> None:
        client = aio.AsyncClient(server.url, session_ttl=1)
        async with client.acquire(unique()) as lease:
            self.assertIsNotNone(lease.session_id)
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(lease.lost.wait(), 2.5)
            self.assertIsNotNone(await client.get_lease(lease.id))
        self.assertIsNone(await client.get_lease(lease.id))

    async def test_a_session_that_dies_ends_its_leases(self) -> None:
        s = await self.client.session(ttl=1)
        lease = await s.acquire(unique())
        server.http("DELETE", "/v1/admin/sessions/%d" % s.id)
        await asyncio.wait_for(s.lost.wait(), 5)
        await asyncio.wait_for(lease.lost.wait(), 2)
        await s.close()

    async def test_cancelling_a_waiting_acquire_leaves_the_queue(self) -> None:
        path = unique()
        async with self.client.acquire(path, ttl=30):
            waiter = asyncio.ensure_future(self.client.acquire(path, ttl=30, wait=60))
            queue = lambda: server.http("GET", "/v1/resources" + path)["queue"]
            self.assertTrue(await eventually(lambda: len(queue()) == 1, 10))
            waiter.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await waiter
            self.assertTrue(await eventually(lambda: queue() == [], 10), "the server dropped the cancelled request")

    async def test_pools_and_typed_errors(self) -> None:
        pool = unique("/pyalab")
        await self.client.declare(pool + "/a", {"id": "a", "os": "android"})
        await self.client.declare(pool + "/b", {"id": "b", "os": "ios"})
        async with self.client.acquire(pool=pool, require="os=android", ttl=30) as lease:
            self.assertEqual(["a"], [r.id for r in lease.resources])
        async with self.client.acquire(groups=[Group(pool, {"os": "ios"}), Group(pool, "os=android")], ttl=30) as both:
            self.assertEqual(2, len(both.resources))
        with self.assertRaises(leasehold.NoMatch):
            await self.client.acquire(pool=pool, require={"os": "windows"}, ttl=30)
        with self.assertRaises(leasehold.InvalidPath) as caught:
            await self.client.acquire("relative", ttl=30)
        self.assertEqual(400, caught.exception.status)
        with self.assertRaises(leasehold.Unreachable):
            await aio.AsyncClient(closed_port_url(), retries=1, retry_timeout=1).acquire(unique(), ttl=30)

    async def test_a_revoked_lease_of_a_session_is_lost_alone_without_the_read_right(self) -> None:
        from test_client import lock_only_server

        secured, key, admin_key = lock_only_server()
        try:
            client = aio.AsyncClient(secured.url, api_key=key)
            s = await client.session(ttl=1.5)
            kept, revoked = await s.acquire(unique()), await s.acquire(unique())
            with self.assertRaises(leasehold.Forbidden):
                await client.get_lease(kept.id)
            await aio.AsyncClient(secured.url, api_key=admin_key)._transport.call("DELETE", "/v1/admin/leases/%d" % revoked.id)
            await asyncio.wait_for(revoked.lost.wait(), 5)
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(s.lost.wait(), 3.5)
            self.assertFalse(kept.is_lost)
            await kept.renew()
            await s.close()
        finally:
            secured.stop()

    async def test_a_coroutine_lost_callback_is_kept_until_it_ends(self) -> None:
        import gc
        import weakref

        waits: List[Any] = []
        finished = asyncio.Event()

        async def on_lost(lease: aio.AsyncLease) -> None:
            # A future nothing else refers to: only the callback's task keeps it, and only the client keeps that task.
            future = asyncio.get_running_loop().create_future()
            waits.append(weakref.ref(future))
            await future
            finished.set()

        lease = await self.client.acquire(unique(), ttl=1, renew=False, on_lost=on_lost)
        await asyncio.wait_for(lease.lost.wait(), 5)
        self.assertTrue(await eventually(lambda: len(waits) == 1, 2))
        gc.collect()
        future = waits[0]()
        self.assertIsNotNone(future, "the callback's task was collected before it ended")
        future.set_result(None)
        await asyncio.wait_for(finished.wait(), 2)

    async def test_release_cancelled_while_stopping_its_keeper_is_cancelled(self) -> None:
        lease = await self.client.acquire(unique(), ttl=30)
        releasing = asyncio.ensure_future(lease.release())
        await asyncio.sleep(0)  # release() has begun and waits for the keep-alive task to stop
        releasing.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await releasing
        await self.client.release(lease.id, lease.token)

    async def test_a_waiting_acquire_outlasts_a_proxy_that_cuts_every_request(self) -> None:
        from test_client import CuttingProxy

        proxy = CuttingProxy(server.url, cut_after=0.5)
        try:
            path = unique()
            holder = await self.client.acquire(path, ttl=30)
            waiter = asyncio.ensure_future(aio.AsyncClient(proxy.url, retries=1, retry_timeout=5).acquire(path, ttl=30, wait=20))
            self.assertTrue(await eventually(lambda: proxy.cuts >= 4 or waiter.done(), 10))
            self.assertFalse(waiter.done(), "the acquire ended while the path was held")
            await holder.release()
            lease = await asyncio.wait_for(waiter, 20)
            self.assertGreater(lease.fence, holder.fence)
            await self.client.release(lease.id, lease.token)
        finally:
            proxy.close()

    async def test_a_renewal_whose_answer_trickles_does_not_hold_the_loss_back(self) -> None:
        from test_client import TricklingProxy

        proxy = TricklingProxy(server.url)
        try:
            lease = await aio.AsyncClient(proxy.url).acquire(unique(), ttl=1.5)
            proxy.trickle = True
            last_renewal = time.monotonic()
            await asyncio.wait_for(lease.lost.wait(), 5)
            self.assertLess(time.monotonic() - last_renewal, 2.2)
        finally:
            proxy.close()

    async def test_a_dead_server_is_skipped(self) -> None:
        client = aio.AsyncClient([closed_port_url(), server.url], connect_timeout=1)
        async with client.acquire(unique(), ttl=30) as lease:
            self.assertGreater(lease.fence, 0)


if __name__ == "__main__":
    unittest.main()
