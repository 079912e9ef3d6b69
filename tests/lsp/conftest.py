"""Fixtures for the language server tests: the real server as a subprocess over stdio."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp.client import LanguageClient, make_test_lsp_client


def server_env(tmp: Path) -> dict[str, str]:
    """An environment isolated from the user's config, with one thread per model: on a
    busy machine llama.cpp's spinning threads slow down badly when they outnumber free
    cores."""
    env = dict(os.environ)
    env.update(
        LLAMAPILOT_CONFIG=str(tmp / "absent.toml"),
        LLAMAPILOT_DATA_DIR=str(tmp / "data"),
        LLAMAPILOT_N_THREADS="1",
        LLAMAPILOT_AUDIT="false",
    )
    return env


@pytest.fixture
def lsp_env(tmp_path: Path) -> dict[str, str]:
    return server_env(tmp_path)


Starter = Callable[..., Any]


@pytest_asyncio.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[Starter]:
    """Start ``llamapilot lsp`` and initialize it; yields ``start(init_options=...)``.

    Every server started is shut down and must exit with code 0, unless the test already
    ended it.
    """
    clients: list[LanguageClient] = []

    async def start(
        init_options: dict[str, Any] | None = None,
        capabilities: types.ClientCapabilities | None = None,
    ) -> LanguageClient:
        client = make_test_lsp_client()
        await client.start_io(sys.executable, "-m", "llamapilot", "lsp", env=server_env(tmp_path))
        clients.append(client)
        client.initialize_result = await client.initialize_session(  # type: ignore[attr-defined]
            types.InitializeParams(
                capabilities=capabilities or types.ClientCapabilities(),
                root_uri=tmp_path.as_uri(),
                initialization_options=init_options,
            )
        )
        return client

    yield start
    for client in clients:
        server = client._server
        if server is not None and server.returncode is None:
            await client.shutdown_session()
            assert server.returncode == 0
        await client.stop()
