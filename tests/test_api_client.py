"""The API client against a real local HTTP server speaking the OpenAI chat-completions protocol."""
from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
from collections import Counter

import pytest

from librachem_utils.api.client import TRUNCATED, ApiClient, ChatRequest, MissingApiKeyError
from librachem_utils.api.test_server import FakeHTTPError, Faults
from librachem_utils.core.params import ApiParams
from support.fake_openai import fake_openai  # noqa: F401 (fixture)

KEY_ENV = "LIBRACHEM_TEST_API_KEY"
SECRET = "sk-test-7f3a9c1e5b2d4f60"


@pytest.fixture
def api(fake_openai, monkeypatch) -> ApiParams:
    monkeypatch.setenv(KEY_ENV, SECRET)
    return ApiParams(
        base_url=fake_openai.base_url,
        model="fake-model",
        api_key_env=KEY_ENV,
        concurrency=32,
        max_retries=4,
        format_retries=2,
        timeout_s=0.5,
        usd_per_1m_input_tokens=1.0,
        usd_per_1m_output_tokens=2.0,
    )


def make_client(api: ApiParams, tmp_path, name: str = "cache") -> ApiClient:
    return ApiClient(api, tmp_path / name / "api.sqlite", base_delay_s=0.01, progress=False)


def items(n: int) -> list[ChatRequest]:
    return [ChatRequest.user(f"item {i}", system="You answer briefly.") for i in range(n)]


def cache_rows(client: ApiClient) -> list[tuple]:
    with sqlite3.connect(client.cache_path) as db:
        return db.execute("SELECT key, value, checksum FROM replies ORDER BY rowid").fetchall()


def test_faulty_run_matches_fault_free_run(api, fake_openai, tmp_path):
    requests = items(300)
    clean = make_client(api, tmp_path, "clean").complete_many(requests)
    assert fake_openai.requests_total == 300

    fake_openai.reset_counts()
    fake_openai.faults = Faults(
        server_error=0.07, rate_limited=0.05, timeout=0.02, malformed=0.06,
        retry_after_s=0.05, hang_s=1.0, max_per_body=2,
    )
    client = make_client(api, tmp_path, "faulty")
    faulty = client.complete_many(requests)

    assert all(result.ok for result in faulty), [r.error for r in faulty if not r.ok][:3]
    assert [r.text for r in faulty] == [r.text for r in clean]
    assert all(r.text.endswith(f"to: item {i}") for i, r in enumerate(faulty))
    outcomes = Counter(received.outcome for received in fake_openai.received)
    assert {"server_error", "rate_limited", "timeout", "malformed"} <= set(outcomes)
    assert len(fake_openai.successes_by_body) == 300
    assert set(fake_openai.successes_by_body.values()) == {1}  # no request repeated after success
    # every request the endpoint saw, and no other, counts as sent (on a busy machine a few tries
    # time out before their connection is made: those are counted apart, as never sent)
    assert client.usage.requests_sent == fake_openai.requests_total > 300
    tries = client.usage.requests_sent + client.usage.requests_unsent
    assert client.usage.retries == tries - 300
    assert sum(r.attempts for r in faulty) == tries
    assert client.usage.failures == 0 and len(cache_rows(client)) == 300


def test_warm_rerun_sends_no_request(api, fake_openai, tmp_path):
    requests = items(50)
    first = make_client(api, tmp_path).complete_many(requests)
    fake_openai.reset_counts()

    rerun_client = make_client(api, tmp_path)
    rerun = rerun_client.complete_many(requests)

    assert fake_openai.requests_total == 0
    assert [r.text for r in rerun] == [r.text for r in first]
    assert all(r.cached and r.attempts == 0 for r in rerun)
    assert rerun_client.usage.cache_hits == 50 and rerun_client.usage.requests_sent == 0


def test_identical_requests_in_one_call_are_sent_once(api, fake_openai, tmp_path):
    request = ChatRequest.user("same question")
    results = make_client(api, tmp_path).complete_many([request, ChatRequest.user("other"), request])
    assert fake_openai.requests_total == 2
    assert results[0].text == results[2].text != results[1].text


def test_corrupted_cache_row_is_detected_and_regenerated(api, fake_openai, tmp_path):
    requests = items(3)
    original = make_client(api, tmp_path).complete_many(requests)
    client = make_client(api, tmp_path)
    [corrupted_key] = [key for key, value, _ in cache_rows(client) if value.decode() == original[1].text]
    with sqlite3.connect(client.cache_path) as db:
        db.execute("UPDATE replies SET value = ? WHERE key = ?", (b"garbage \xff", corrupted_key))
    fake_openai.reset_counts()

    rerun = client.complete_many(requests)

    assert [r.text for r in rerun] == [r.text for r in original]
    assert [r.cached for r in rerun] == [True, False, True]
    assert fake_openai.requests_total == 1 and client.usage.cache_repairs == 1
    repaired = dict((key, (value, checksum)) for key, value, checksum in cache_rows(client))[corrupted_key]
    assert repaired[0].decode() == original[1].text


def test_rejected_reply_is_retried_then_accepted(api, fake_openai, tmp_path):
    replies_sent = Counter()

    def responder(messages):
        prompt = messages[-1]["content"]
        replies_sent[prompt] += 1
        return "not json" if replies_sent[prompt] == 1 else json.dumps({"answer": prompt})

    def validate(text):
        return json.loads(text)["answer"]

    fake_openai.responder = responder
    client = make_client(api, tmp_path)
    [result] = client.complete_many([ChatRequest.user("q")], validate=validate)

    assert result.ok and result.value == "q" and result.attempts == 2
    assert fake_openai.requests_total == 2 and client.usage.retries == 1
    assert [row[1] for row in cache_rows(client)] == [json.dumps({"answer": "q"}).encode()]


def test_always_rejected_reply_fails_after_format_retries_and_is_not_cached(api, fake_openai, tmp_path):
    def validate(text):
        raise ValueError("expected a JSON object with 'answer'")

    client = make_client(api, tmp_path)
    [result] = client.complete_many([ChatRequest.user("q")], validate=validate)

    assert not result.ok and result.text is None
    assert "rejected by validation 3 times" in result.error and "'answer'" in result.error
    assert fake_openai.requests_total == api.format_retries + 1 == result.attempts
    assert cache_rows(client) == [] and client.usage.failures == 1


def test_missing_api_key_names_the_variable(api, fake_openai, tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(MissingApiKeyError, match=KEY_ENV):
        make_client(api, tmp_path).complete_many(items(2))
    assert fake_openai.requests_total == 0


def test_warm_cache_needs_no_api_key(api, fake_openai, tmp_path, monkeypatch):
    make_client(api, tmp_path).complete_many(items(2))
    monkeypatch.delenv(KEY_ENV)
    assert all(r.cached for r in make_client(api, tmp_path).complete_many(items(2)))


def test_api_key_reaches_the_server_and_nothing_else(api, fake_openai, tmp_path):
    def responder(messages):
        if messages[-1]["content"] == "item 3":  # an endpoint echoing the key in an auth error
            raise FakeHTTPError(401, f"Incorrect API key provided: {SECRET}")
        return "fine"

    fake_openai.responder = responder
    client = make_client(api, tmp_path)
    results = client.complete_many(items(10))

    assert set(fake_openai.authorization_headers) == {f"Bearer {SECRET}"}
    assert "HTTP 401" in results[3].error and SECRET not in results[3].error
    assert SECRET not in client.usage.summary(api) and SECRET not in repr(client.usage)
    files = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert files and all(SECRET.encode() not in path.read_bytes() for path in files)


def test_bad_request_is_not_retried(api, fake_openai, tmp_path):
    def responder(messages):
        raise FakeHTTPError(400, "invalid messages")

    fake_openai.responder = responder
    client = make_client(api, tmp_path)
    [result] = client.complete_many([ChatRequest.user("q")])

    assert not result.ok and "HTTP 400" in result.error and result.attempts == 1
    assert fake_openai.requests_total == 1 and client.usage.retries == 0


def test_persistent_server_errors_stop_after_max_retries(api, fake_openai, tmp_path):
    def responder(messages):
        raise FakeHTTPError(503, "overloaded")

    fake_openai.responder = responder
    [result] = make_client(api, tmp_path).complete_many([ChatRequest.user("q")])

    assert not result.ok and "HTTP 503" in result.error
    assert result.attempts == fake_openai.requests_total == api.max_retries + 1


def test_reply_cut_at_max_tokens_is_kept_as_truncated_and_not_retried(api, fake_openai, tmp_path):
    reply = json.dumps({"answer": "a long answer " * 20})
    fake_openai.responder = lambda messages: reply
    cut = ChatRequest(messages=(("user", "q"),), max_tokens=10)
    whole = ChatRequest(messages=(("user", "q"),), max_tokens=200)
    validated = []

    def validate(text):
        validated.append(text)
        return json.loads(text)["answer"]

    client = make_client(api, tmp_path)
    truncated, complete = client.complete_many([cut, whole], validate=validate)

    assert truncated.truncated and not truncated.ok and truncated.error == TRUNCATED
    assert truncated.text == reply[:40] and truncated.value is None and truncated.attempts == 1
    assert complete.ok and not complete.truncated and complete.text == reply and validated == [reply]
    assert [r.outcome for r in fake_openai.received] == ["length", "ok"] or \
        [r.outcome for r in fake_openai.received] == ["ok", "length"]
    assert fake_openai.requests_total == 2 and client.usage.retries == 0
    assert client.usage.truncated == 1 and client.usage.failures == 1
    assert "1 replies cut at max_tokens" in client.usage.summary()
    assert [row[1] for row in cache_rows(client)] == [reply.encode()]  # the cut reply is not cached


def test_tries_that_never_reach_the_endpoint_are_not_counted_as_sent(api, tmp_path):
    with socket.socket() as bound:  # bound but not listening: every connection is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        client = make_client(api.model_copy(update={"base_url": f"http://127.0.0.1:{port}/v1"}), tmp_path)
        [result] = client.complete_many([ChatRequest.user("q")])

    assert not result.ok and "connection error" in result.error and result.attempts == api.max_retries + 1
    assert client.usage.requests_sent == 0 and client.usage.requests_unsent == api.max_retries + 1
    assert "5 tries never reached the endpoint" in client.usage.summary()


def test_retry_after_is_honoured(api, fake_openai, tmp_path):
    fake_openai.faults = Faults(rate_limited=1.0, retry_after_s=0.2, max_per_body=1)
    [result] = make_client(api, tmp_path).complete_many([ChatRequest.user("q")])

    assert result.ok and result.attempts == 2
    first, second = fake_openai.received
    assert (first.outcome, second.outcome) == ("rate_limited", "ok")
    assert second.at - first.at >= 0.2


def test_requests_per_minute_pacing_avoids_429(api, fake_openai, tmp_path):
    fake_openai.requests_per_minute = 1200  # 20/s with one second of burst
    client = make_client(api.model_copy(update={"requests_per_minute": 1200.0}), tmp_path)
    start = time.monotonic()
    results = client.complete_many(items(30))
    elapsed = time.monotonic() - start

    assert all(r.ok for r in results)
    assert fake_openai.requests_total == 30  # no 429 was needed
    assert elapsed >= 29 / 20 * 0.95


def test_works_inside_a_running_event_loop(api, fake_openai, tmp_path):
    client = make_client(api, tmp_path)

    async def notebook_cell():
        return client.complete_many(items(5))

    results = asyncio.run(notebook_cell())
    assert [r.text.endswith(f"item {i}") for i, r in enumerate(results)] == [True] * 5


def test_usage_cost(api, fake_openai, tmp_path):
    client = make_client(api, tmp_path)
    client.complete_many(items(4))
    usage = client.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    expected = (usage.prompt_tokens * 1.0 + usage.completion_tokens * 2.0) / 1e6
    assert usage.cost_usd(api) == pytest.approx(expected)
    assert "4 requests sent" in usage.summary(api)
