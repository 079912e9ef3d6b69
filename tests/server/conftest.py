"""A real llamapilot server on a free loopback port, sharing the session's loaded model."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from llamapilot.config import Settings
from llamapilot.server import create_app

API_KEY = "test-key-0123456789"


class RunningServer:
    """uvicorn in a thread, on a socket bound (and listening) before it starts, so clients
    can connect at once: their connections wait in the backlog until the app is up."""

    def __init__(self, settings: Settings, service: object) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, service)  # type: ignore[arg-type]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self._sock = sock
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()

    @property
    def state(self):
        return self.app.state.llamapilot

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()


@pytest.fixture(scope="session")
def server(core_settings: Settings, service: object) -> Iterator[RunningServer]:
    running = RunningServer(core_settings, service)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def keyed_server(core_settings: Settings, service: object) -> Iterator[RunningServer]:
    settings = core_settings.model_copy(update={"api_key": API_KEY, "max_body_bytes": 64 * 1024})
    running = RunningServer(settings, service)
    yield running
    running.stop()


@pytest.fixture()
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def wait_until(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds (bounded); for server state seen from outside."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
