"""The local OpenAI-compatible server (``librachem_utils.api.test_server``) as a pytest fixture."""
from __future__ import annotations

import pytest

from librachem_utils.api.test_server import (  # noqa: F401 (re-exported for the tests)
    CHAT_PATHS, FakeHTTPError, FakeOpenAI, Faults, Received, default_responder, pipeline_responder,
)


@pytest.fixture
def fake_openai():
    """A fresh fault-free server per test; tests set ``responder``, ``faults`` etc. on it."""
    with FakeOpenAI() as server:
        yield server
