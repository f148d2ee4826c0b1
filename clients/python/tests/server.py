"""Starts the real Leasehold server for the tests: HTTP on 127.0.0.1 port 0, a temporary data directory,
the native port off. The bound port is read from the server's start-up log."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
LISTENING = re.compile(r"Leasehold listening on (https?://(?:127\.0\.0\.1|\[::1\]):\d+)")
_build_lock = threading.Lock()


def repo_root() -> Optional[str]:
    path = HERE
    for _ in range(6):
        if os.path.exists(os.path.join(path, "Leasehold.slnx")):
            return path
        path = os.path.dirname(path)
    return None


def server_dll() -> str:
    """``$LEASEHOLD_SERVER_DLL``, else the repository's Release or Debug build, else a Release build made now."""
    given = os.environ.get("LEASEHOLD_SERVER_DLL")
    if given:
        return given
    root = repo_root()
    if root is None:
        raise RuntimeError("set LEASEHOLD_SERVER_DLL to the server's Leasehold.Server.dll (the tests are outside the repository)")
    candidates = [os.path.join(root, "src", "Leasehold.Server", "bin", c, "net10.0", "Leasehold.Server.dll") for c in ("Release", "Debug")]
    with _build_lock:
        for candidate in candidates:
            if os.path.exists(candidate):
                return candidate
        subprocess.run(
            ["dotnet", "build", os.path.join(root, "src", "Leasehold.Server"), "-c", "Release", "-v", "q", "-nologo"],
            check=True,
            timeout=600,
        )
        return candidates[0]


def cli_dll() -> str:
    """``$LEASEHOLD_CLI_DLL``, else the command-line tool built beside the server (``leasehold.dll``)."""
    given = os.environ.get("LEASEHOLD_CLI_DLL")
    if given:
        return given
    # src/Leasehold.Server/bin/CONFIG/net10.0/Leasehold.Server.dll -> src/Leasehold.Cli/bin/CONFIG/net10.0/leasehold.dll
    framework = os.path.dirname(server_dll())
    config = os.path.dirname(framework)
    src = os.path.dirname(os.path.dirname(os.path.dirname(config)))
    project = os.path.join(src, "Leasehold.Cli")
    candidate = os.path.join(project, "bin", os.path.basename(config), os.path.basename(framework), "leasehold.dll")
    with _build_lock:
        if not os.path.exists(candidate) and os.path.exists(project):
            subprocess.run(["dotnet", "build", project, "-c", os.path.basename(config), "-v", "q", "-nologo"], check=True, timeout=600)
    if not os.path.exists(candidate):
        raise RuntimeError("set LEASEHOLD_CLI_DLL to the command-line tool's leasehold.dll (not found at %s)" % candidate)
    return candidate


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> List[int]:
    """Free loopback ports, all different: each is held while the next is taken (taken one at a time and let go, the
    system may hand out the same port twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class ServerProcess:
    def __init__(self, *settings: str, urls: str = "http://127.0.0.1:0") -> None:
        self.settings = list(settings)
        self.urls = urls
        self.url = ""
        self.output: List[str] = []
        self._process: Optional[subprocess.Popen[str]] = None
        self._data = tempfile.mkdtemp(prefix="leasehold-py-")

    def start(self, timeout: float = 60) -> "ServerProcess":
        self._process = subprocess.Popen(
            ["dotnet", server_dll(), "--urls", self.urls, "--Leasehold:DataDir=" + self._data, "--Leasehold:Native:Port=-1"]
            + self.settings,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        found = threading.Event()

        def read() -> None:
            assert self._process is not None and self._process.stdout is not None
            for line in self._process.stdout:
                self.output.append(line)
                m = LISTENING.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.1):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start:\n" + "".join(self.output[-40:]))
        return self

    def stop(self) -> None:
        self.kill()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        shutil.rmtree(self._data, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL, keeping the data directory (for tests of a server that dies)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=30)

    # Raw HTTP, for checking what the server holds without the client under test.
    def http(self, method: str, path: str, body: Any = None, headers: Optional[dict] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return json.loads(error.read() or b"null")


def closed_port_url() -> str:
    """An http:// URL on which nothing listens (a port just bound and released)."""
    return "http://127.0.0.1:%d" % free_port()


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Polls ``condition`` until it holds or ``timeout`` seconds have passed; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def unique(prefix: str = "/py") -> str:
    return "%s/%s" % (prefix, uuid.uuid4().hex[:12])


_shared: Optional[ServerProcess] = None


def shared_server() -> ServerProcess:
    """One server for the tests of a run that need no server of their own (each uses its own paths)."""
    global _shared
    if _shared is None:
        _shared = ServerProcess().start()
    return _shared


def stop_shared_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


def run_in_threads(functions: Sequence[Callable[[], Any]]) -> List[threading.Thread]:
    threads = [threading.Thread(target=f, daemon=True) for f in functions]
    for t in threads:
        t.start()
    return threads
