"""Shared fixtures: the real embedded model, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamapilot.config import Settings


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    from llamapilot.models.locate import embedded_model_path

    return embedded_model_path()


@pytest.fixture(scope="session")
def core_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for tests: embedded model, 2 threads, audit log in a temporary folder."""
    return Settings(
        model=None,
        n_ctx=4096,
        n_threads=2,
        data_dir=tmp_path_factory.mktemp("llamapilot-data"),
    )


@pytest.fixture(scope="session")
def service(core_settings: Settings):
    """One CompletionService on the embedded model, shared by the session's tests."""
    from llamapilot.completion.service import CompletionService

    return CompletionService.from_settings(core_settings)
