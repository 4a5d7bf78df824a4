"""The data pipeline holds under faults: flaky endpoints, a hard kill, warm and corrupted caches, secrets.

Steps 01-03 run with ``data.generator.backend: openai`` against the local OpenAI-compatible server
(``librachem_utils.api.test_server``) answering the pipeline's own instructions, mostly through the
papermill runner in a subprocess, as a user would run them (``support.pipeline``). Traffic goes to
127.0.0.1 only. Bad inputs are in ``test_bad_inputs.py``. These are the long tests (``make test-slow``).
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import pytest

from librachem_utils.api.test_server import FAULT_KINDS, FakeHTTPError, FakeOpenAI, Faults, pipeline_responder
from librachem_utils.core import files
from support.pipeline import (
    KEY_ENV,
    ROOT,
    RUNNER_TIMEOUT_S,
    SECRET,
    data_bytes,
    data_dir,
    failure,
    in_process,
    run_steps,
    runner_command,
    runner_env,
    write_params,
)

# each test runs steps 01-02 (or 01-03) against the server, mostly through the runner: 30-60 s apiece on 2 cores
pytestmark = pytest.mark.slow

FAULTS_20 = dict(server_error=0.07, rate_limited=0.04, timeout=0.03, malformed=0.06)


# --- the server: the pipeline responder behind a gate that can hold answers back ----------------

class Gate:
    """Answers through ``pipeline_responder`` until ``limit`` answers were given, then holds every
    further request until ``release`` is set and fails it with a 503 (never counted as answered)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.limit: Optional[int] = None
        self.answered = 0
        self.held = 0

    def reset(self, limit: Optional[int] = None) -> None:
        self.release.set()
        with self.lock:
            self.limit, self.answered, self.held = limit, 0, 0
        self.release = threading.Event()

    def __call__(self, messages: list[dict]) -> str:
        with self.lock:
            admit = self.limit is None or self.answered < self.limit
            if admit:
                self.answered += 1
            else:
                self.held += 1
                release = self.release
        if admit:
            return pipeline_responder(messages)
        release.wait(timeout=60)
        raise FakeHTTPError(503, "server going away")


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def server(gate):
    with FakeOpenAI(responder=gate) as fake:
        yield fake
    gate.release.set()


@pytest.fixture(autouse=True)
def fresh_server(request):
    """Every test starts with a fault-free, ungated server and zero counts (module fixtures are
    set up before this one, so what they sent is not counted)."""
    if "server" in request.fixturenames:
        fake, gate = request.getfixturevalue("server"), request.getfixturevalue("gate")
        fake.faults, fake.latency_s = Faults(), 0.0
        gate.reset()
        fake.reset_counts()
    yield


# --- helpers ----------------------------------------------------------------------------------

def cache_keys(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {key for (key,) in db.execute("SELECT key FROM replies")}


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the notebook kernel runs in a session of its own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# --- the uninterrupted, fault-free reference and the faulty run -----------------------------------

@pytest.fixture(scope="module")
def reference(server, gate, tmp_path_factory):
    """Steps 01-02 uninterrupted and fault-free, in this process (the functions the notebooks call):
    the files every run through the runner must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    params_file = write_params(folder, "reference", base_url=server.base_url, cache=folder / "cache.sqlite")
    gate.reset()
    server.reset_counts()
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, SECRET)
        in_process(params_file)
    data_files = data_bytes(params_file)
    n_seeds = len(files.read_jsonl(data_dir(params_file) / "seeds.jsonl"))
    assert len(server.successes_by_body) == 3 * n_seeds  # one craft and two responses per seed
    return {"files": data_files, "n_seeds": n_seeds, "bodies": set(server.successes_by_body)}


@pytest.fixture(scope="module")
def faulty(server, gate, reference, tmp_path_factory):
    """Steps 01-02 through the runner with 20% of answers faulty."""
    folder = tmp_path_factory.mktemp("faulty")
    cache = folder / "cache.sqlite"
    params_file = write_params(folder, "faulty", base_url=server.base_url, cache=cache)
    gate.reset()
    server.reset_counts()
    server.faults = Faults(**FAULTS_20, retry_after_s=0.1, hang_s=2.0, max_per_body=2)
    try:
        result = run_steps(params_file)
    finally:
        server.faults = Faults()
    assert result.returncode == 0, failure(result)
    return {"params_file": params_file, "cache": cache, "folder": folder, "result": result,
            "outcomes": Counter(r.outcome for r in server.received), "successes": Counter(server.successes_by_body)}


def test_faulty_endpoint_gives_the_same_triplets_as_a_fault_free_run(faulty, reference):
    outcomes = faulty["outcomes"]
    assert set(FAULT_KINDS) <= set(outcomes), outcomes
    faults = sum(n for kind, n in outcomes.items() if kind != "ok")
    assert 0.12 <= faults / sum(outcomes.values()) <= 0.25, outcomes  # about a fifth of all answers

    # every request was answered successfully exactly once, and nothing else was asked
    assert set(faulty["successes"]) == reference["bodies"] and set(faulty["successes"].values()) == {1}

    # every item is present exactly once, none lost to a fault, and the files match byte for byte
    folder = data_dir(faulty["params_file"])
    kept = files.read_jsonl(folder / "triplets.jsonl")
    rejected = files.read_jsonl(folder / "rejected_rows.jsonl", allow_empty=True)
    ids = [row["triplet_id"] for row in kept + rejected]
    expected = {f"{row['seed_id']}#0" for row in files.read_jsonl(folder / "seeds.jsonl")}
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert not [row for row in rejected if row["stage"] in ("craft", "respond")]
    assert len(kept) >= 0.9 * len(expected)
    assert data_bytes(faulty["params_file"]) == reference["files"]


def test_warm_cache_rerun_sends_no_request(faulty, server, tmp_path):
    params_file = write_params(tmp_path, "warm", base_url=server.base_url, cache=faulty["cache"])
    generator = in_process(params_file)
    assert server.requests_total == 0
    assert generator.client.usage.requests_sent == 0 and generator.client.usage.cache_hits > 0
    assert data_bytes(params_file) == data_bytes(faulty["params_file"])


def test_corrupted_cache_row_is_regenerated_through_the_pipeline(faulty, server, tmp_path, monkeypatch):
    cache = tmp_path / "cache.sqlite"
    with sqlite3.connect(faulty["cache"]) as source, sqlite3.connect(cache) as copy:
        source.backup(copy)
    with sqlite3.connect(cache) as db:
        [(key, value)] = db.execute(
            "SELECT key, value FROM replies WHERE CAST(value AS TEXT) LIKE '{\"response\"%' ORDER BY key LIMIT 1"
        ).fetchall()
        db.execute("UPDATE replies SET value = ? WHERE key = ?", (value.replace(b"e", b"3"), key))
    params_file = write_params(tmp_path, "repaired", base_url=server.base_url, cache=cache)
    monkeypatch.setenv(KEY_ENV, SECRET)

    generator = in_process(params_file)

    assert generator.client.usage.cache_repairs == 1
    assert server.requests_total == 1 and generator.client.usage.requests_sent == 1
    assert data_bytes(params_file) == data_bytes(faulty["params_file"])
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT value FROM replies WHERE key = ?", (key,)).fetchone()[0] == value


# --- a hard kill in the middle of step 02 --------------------------------------------------------

def test_run_killed_mid_step_resumes_to_identical_files_without_repeating_requests(server, gate, reference,
                                                                                   tmp_path):
    concurrency = 4
    cache = tmp_path / "cache.sqlite"
    params_file = write_params(tmp_path, "killed", base_url=server.base_url, cache=cache, concurrency=concurrency,
                               timeout_s=60.0)
    n = reference["n_seeds"]
    limit = n + n  # all crafts and half of the 2n responses, then the server holds every request
    gate.reset(limit=limit)

    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(runner_command(params_file, "01,02"), stdout=log, stderr=subprocess.STDOUT,
                            cwd=ROOT, env=runner_env(), start_new_session=True)
    try:
        deadline = time.monotonic() + RUNNER_TIMEOUT_S
        while gate.held < concurrency and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None and gate.held == concurrency, (tmp_path / "killed.log").read_text()[-3000:]
        # every slot of the client is stuck in the server: every answer given so far has been cached
        victims = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        for pid in victims:  # the kernel, in a session of its own
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in victims) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in victims)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()
        gate.release.set()  # the held requests fail with a 503, after the client is gone

    data = data_dir(params_file)
    assert proc.returncode == -signal.SIGKILL
    assert (data / "seeds.jsonl").is_file() and not (data / "triplets.jsonl").exists()
    assert len(cache_keys(cache)) == limit == sum(server.successes_by_body.values())

    gate.reset()
    result = run_steps(params_file)

    assert result.returncode == 0, failure(result)
    assert data_bytes(params_file) == reference["files"]
    assert set(server.successes_by_body) == reference["bodies"]
    assert set(server.successes_by_body.values()) == {1}, "a cached request was sent again"
    assert len(cache_keys(cache)) == 3 * n


# --- the key stays out of every file --------------------------------------------------------------

def test_api_key_appears_in_no_file_of_the_run(server, tmp_path):
    runs_dir = tmp_path / "runs"
    run_dir = runs_dir / "secret"
    params_file = write_params(tmp_path, "secret", base_url=server.base_url, runs_dir=runs_dir,
                               cache=run_dir / "cache" / "api.sqlite")

    result = run_steps(params_file, "01,02,03")

    assert result.returncode == 0, failure(result)
    assert server.requests_total > 0 and set(server.authorization_headers) == {f"Bearer {SECRET}"}
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    names = {path.relative_to(run_dir).parts[0] for path in files}
    assert {"notebooks", "data", "cache", "provenance", "timings.json"} <= names
    assert len([p for p in files if p.suffix == ".ipynb"]) == 3
    leaks = [str(path) for path in files if SECRET.encode() in path.read_bytes() or SECRET in str(path)]
    assert leaks == []
    assert SECRET not in result.stdout + result.stderr
