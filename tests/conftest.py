"""Shared fixtures: the test recordings (tests/data, samples/) and isolated settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from meeting_notes.process_defaults import apply_process_defaults

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
apply_process_defaults()  # what the CLI and the stage loop set before torch loads

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def sample_wav() -> Path:
    return ROOT / "samples" / "sample.wav"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for assembled bundled models per test session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture()
def settings(model_cache: Path):
    """Default settings with an isolated model cache (no user config file involved)."""
    from meeting_notes.settings import Settings

    return Settings(cache_dir=model_cache)


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect server for the whole session (about 10 s to start), shared by the
    flow tests; not autouse. It has a global concurrency limit 'test-gpu' of 1 slot."""
    pytest.importorskip("prefect")
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            with get_client(sync_client=True) as client:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="test-gpu", limit=1))
            yield
