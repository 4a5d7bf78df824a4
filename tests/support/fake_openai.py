"""The local OpenAI-compatible server (``librachem_utils.api.test_server``) as a pytest fixture."""
from __future__ import annotations

import pytest

from librachem_utils.api.test_server import FakeOpenAI


@pytest.fixture
def fake_openai():
    """A fresh fault-free server per test; tests set ``responder``, ``faults`` etc. on it."""
    with FakeOpenAI() as server:
        yield server
