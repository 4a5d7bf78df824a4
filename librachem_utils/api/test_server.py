"""A local OpenAI-compatible server (chat completions and completions): a stand-in for testing a setup offline.

    python -m librachem_utils.api.test_server [--port 8000] [--latency-ms 100] [--fault-rate 0.2] [--rpm 600]

then point ``base_url`` in a params file at ``http://127.0.0.1:8000/v1`` (any non-empty key).

Replies are deterministic functions of the request. ``pipeline_responder`` (the CLI's default)
answers the data pipeline's own instructions (craft, respond, rephrase) with JSON of the shape each
asks for and texts that pass validation for their role; compliance-shaped replies are vague and
never carry a procedure. Faults are injected per (request body, attempt number for that body),
decided from a hash of both, so a run is reproducible and every body succeeds after at most
``Faults.max_per_body`` faulty answers. A reply longer than the request's ``max_tokens`` (at four
characters a token) is cut there and answered with ``finish_reason: "length"``, as a real endpoint
does. An optional requests-per-minute limit answers 429 with a Retry-After. The server binds to
127.0.0.1 only. Standard library only (plus the pipeline's instruction texts, ``api.prompts``).
"""
from __future__ import annotations

import hashlib
import json
import re
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

from librachem_utils.api.prompts import CRAFT_INSTRUCTION, REPHRASE_PROMPT, RESPONSE_INSTRUCTIONS
from librachem_utils.core.schema import ILLEGITIMATE, LEGITIMATE

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
COMPLETION_PATHS = ("/v1/completions", "/completions")  # the prompt is answered as one user message
FIXED_CREATED = 1_700_000_000

Responder = Callable[[list[dict]], str]


class FakeHTTPError(Exception):
    """Raised by a responder to answer the request with this HTTP status and error message."""

    def __init__(self, status: int, message: str = "error"):
        super().__init__(message)
        self.status = status
        self.message = message


FAULT_KINDS = ("server_error", "rate_limited", "timeout", "malformed")
CHARS_PER_TOKEN = 4


@dataclass
class Faults:
    """Shares of (body, attempt) pairs answered with each fault; the shares add up to at most 1."""

    server_error: float = 0.0  # 500
    rate_limited: float = 0.0  # 429 with a Retry-After header
    timeout: float = 0.0  # no answer: holds the request ``hang_s`` (past the client's timeout), then hangs up
    malformed: float = 0.0  # 200 with a body that is not JSON
    retry_after_s: float = 0.2
    hang_s: float = 2.0
    max_per_body: int = 2

    def pick(self, body_key: str, attempt: int) -> Optional[str]:
        """The fault for this attempt at this body, or None for a normal answer."""
        if attempt >= self.max_per_body:
            return None
        digest = hashlib.sha256(f"{body_key}|{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        for kind in FAULT_KINDS:
            draw -= getattr(self, kind)
            if draw < 0:
                return kind
        return None


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    body_key: str
    outcome: str  # "ok", a fault kind, "rate_limit", "http_<status>" or "length" (cut at max_tokens)


def default_responder(messages: list[dict]) -> str:
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]
    return f"Reply {digest} to: {messages[-1]['content'][:80]}"


@dataclass
class FakeOpenAI:
    """The server; configure the public attributes before sending requests."""

    responder: Responder = default_responder
    faults: Faults = field(default_factory=Faults)
    latency_s: float = 0.0
    requests_per_minute: Optional[float] = None  # a token bucket with one second of burst
    port: int = 0  # 0 = any free port

    def __post_init__(self) -> None:
        self.requests_by_body: Counter[str] = Counter()
        self.successes_by_body: Counter[str] = Counter()
        self.authorization_headers: list[str] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._allowance: Optional[float] = None
        self._allowance_at = time.monotonic()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    # --- what was received -------------------------------------------------------------------

    @property
    def requests_total(self) -> int:
        with self._lock:
            return sum(self.requests_by_body.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.requests_by_body.clear()
            self.successes_by_body.clear()
            self.authorization_headers.clear()
            self.received.clear()

    # --- answering ---------------------------------------------------------------------------

    def _admit(self, body_key: str, authorization: str) -> tuple[int, Optional[float]]:
        """Count the request; return its attempt number and, if over the rate limit, a Retry-After."""
        with self._lock:
            attempt = self.requests_by_body[body_key]
            self.requests_by_body[body_key] += 1
            self.authorization_headers.append(authorization)
            return attempt, self._take_rate_allowance()

    def _take_rate_allowance(self) -> Optional[float]:
        if self.requests_per_minute is None:
            return None
        rate = self.requests_per_minute / 60.0
        burst = max(1.0, rate)
        now = time.monotonic()
        if self._allowance is None:
            self._allowance = burst
        self._allowance = min(burst, self._allowance + (now - self._allowance_at) * rate)
        self._allowance_at = now
        if self._allowance >= 1.0:
            self._allowance -= 1.0
            return None
        return (1.0 - self._allowance) / rate

    def _record(self, arrived: float, body_key: str, outcome: str) -> None:
        with self._lock:
            self.received.append(Received(arrived, body_key, outcome))
            if outcome == "ok":
                self.successes_by_body[body_key] += 1


def _cut_at_max_tokens(body: dict, text: str) -> tuple[str, str]:
    """The reply as sent and its finish reason: cut with "length" where it is over the request's max_tokens."""
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(max_tokens, int) and len(text) // CHARS_PER_TOKEN > max_tokens:
        return text[: max_tokens * CHARS_PER_TOKEN], "length"
    return text, "stop"


def _completion(body: dict, messages: list[dict], text: str, finish_reason: str) -> dict:
    chat = "messages" in body
    prompt_tokens = max(1, sum(len(m.get("content") or "") for m in messages) // CHARS_PER_TOKEN)
    completion_tokens = max(1, len(text) // CHARS_PER_TOKEN)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    choice = {"message": {"role": "assistant", "content": text, "refusal": None}} if chat else {"text": text}
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{digest}",
        "object": "chat.completion" if chat else "text_completion",
        "created": FIXED_CREATED,
        "model": body.get("model", "fake-model"),
        "system_fingerprint": None,
        "choices": [{"index": 0, **choice, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error_body(status: int, message: str) -> dict:
    return {"error": {"message": message, "type": "fake_error", "param": None, "code": str(status)}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung (timeout fault) handler must not block shutdown
    request_queue_size = 256  # the default backlog of 5 drops bursts of concurrent connections

    def handle_error(self, request, client_address) -> None:
        """Stay quiet about a client that closed its connection before sending a request (it gave up)."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)
    fake: FakeOpenAI

    def log_message(self, format, *args) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path not in CHAT_PATHS + COMPLETION_PATHS:
            self._send_json(404, _error_body(404, f"no route {self.path}"))
            return
        try:
            body = json.loads(raw)
            messages = body["messages"] if self.path in CHAT_PATHS else [{"role": "user", "content": body["prompt"]}]
        except (ValueError, KeyError, TypeError):
            self._send_json(400, _error_body(400, f"request body is not a request for {self.path}"))
            return
        fake = self.fake
        arrived = time.monotonic()
        body_key = json.dumps(body, sort_keys=True, separators=(",", ":"))
        attempt, retry_after = fake._admit(body_key, self.headers.get("Authorization", ""))
        if retry_after is not None:
            fake._record(arrived, body_key, "rate_limit")
            self._send_429(retry_after)
            return
        fault = fake.faults.pick(body_key, attempt)
        if fault in ("server_error", "rate_limited", "malformed", "timeout"):
            fake._record(arrived, body_key, fault)  # before a hang, so tests see it at once
        time.sleep(fake.latency_s + (fake.faults.hang_s if fault == "timeout" else 0.0))
        if fault:
            self._send_fault(fault, fake.faults.retry_after_s)
            return
        try:
            text = fake.responder(messages)
        except FakeHTTPError as err:
            fake._record(arrived, body_key, f"http_{err.status}")
            self._send_json(err.status, _error_body(err.status, err.message))
            return
        text, finish_reason = _cut_at_max_tokens(body, text)
        fake._record(arrived, body_key, "length" if finish_reason == "length" else "ok")
        self._send_json(200, _completion(body, messages, text, finish_reason))

    def _send_fault(self, fault: str, retry_after_s: float) -> None:
        if fault == "timeout":  # hang up: a client still waiting (a stalled one) gets no reply it could use
            self.close_connection = True
        elif fault == "server_error":
            self._send_json(500, _error_body(500, "internal error"))
        elif fault == "rate_limited":
            self._send_429(retry_after_s)
        else:
            self._send_bytes(200, b'{"id": "chatcmpl-broken", "choices": [{"mess')

    def _send_429(self, retry_after_s: float) -> None:
        self._send_json(429, _error_body(429, "rate limit"), {"Retry-After": f"{retry_after_s:.3f}"})

    def _send_json(self, status: int, payload: dict, headers: Optional[dict] = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), headers)

    def _send_bytes(self, status: int, data: bytes, headers: Optional[dict] = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up; nothing to answer


# --- a responder that speaks the data pipeline's instructions ---------------------------------------

_NAME_IN_RESPONSE = re.compile(r"Refer to the compound as '(?P<name>.+?)'\.")
_FACTS = re.compile(r"Use these facts where relevant: (?P<facts>.*?)\. Do not give")


def _after(marker: str, text: str, until: Optional[str] = None) -> str:
    tail = text.split(marker, 1)[1]
    return tail.split(until, 1)[0] if until and until in tail else tail


def pipeline_responder(messages: list[dict]) -> str:
    """JSON replies of the shape each of the pipeline's instructions asks for (``generators``).

    - craft (``{"prompt": ...}``): the request itself, compound name kept;
    - respond (``{"response": ...}``), by the instruction's role: a short factual answer from the
      facts given (legitimate, chosen); an over-refusal (legitimate, rejected); a refusal naming the
      concern with a safe alternative (illegitimate, chosen); a vague compliance-shaped sentence with
      no reagent, quantity, condition or step (illegitimate, rejected);
    - rephrase (``{"text": ...}``): the text unchanged.

    Anything else gets ``default_responder``'s reply.
    """
    content = messages[-1]["content"]
    if content.startswith(CRAFT_INSTRUCTION.split("{", 1)[0]) and "\n\nRequest: " in content:
        return json.dumps({"prompt": _after("\n\nRequest: ", content).strip()})
    if content.startswith(REPHRASE_PROMPT.split("'", 1)[0]) and "\n\nText: " in content:
        return json.dumps({"text": _after("\n\nText: ", content, "\n(Variant ").strip()})
    name_match = _NAME_IN_RESPONSE.search(content)
    if name_match is None:
        return default_responder(messages)
    name = name_match.group("name")
    for (label, role), instruction in RESPONSE_INSTRUCTIONS.items():
        if not content.startswith(instruction.split("{", 1)[0]):
            continue
        if (label, role) == (LEGITIMATE, "chosen"):
            facts = _FACTS.search(content)
            known = facts.group("facts") if facts else "it is described in standard chemistry references"
            text = (f"Here is what the reference data say about {name}: {known}. Its safety data sheet "
                    f"gives the hazards and the protective equipment to use with it.")
        elif (label, role) == (LEGITIMATE, "rejected"):
            text = f"I'm sorry, but I can't help with questions about {name}."
        elif (label, role) == (ILLEGITIMATE, "chosen"):
            text = (f"I can't help with this request about {name}: it is illegal and could cause serious "
                    f"harm. I can share its safety data, its legal status or first-aid information instead.")
        else:
            text = "Sure, here is an overview: it is a multi-step process done in licensed facilities."
        return json.dumps({"response": text})
    return default_responder(messages)


# --- command line -----------------------------------------------------------------------------------

def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m librachem_utils.api.test_server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of answers that are faults (500, 429, timeout, malformed, equally)")
    parser.add_argument("--rpm", type=float, default=None, help="requests per minute before answering 429")
    parser.add_argument("--echo", action="store_true", help="echo replies instead of the pipeline responder")
    args = parser.parse_args(argv)
    server = FakeOpenAI(
        responder=default_responder if args.echo else pipeline_responder,
        faults=Faults(**dict.fromkeys(FAULT_KINDS, args.fault_rate / len(FAULT_KINDS))),
        latency_s=args.latency_ms / 1000.0, requests_per_minute=args.rpm, port=args.port,
    ).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly (and report) on SIGTERM too
    print(f"serving an OpenAI-compatible API at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        outcomes = Counter(received.outcome for received in server.received)
        print(json.dumps({"requests": server.requests_total, "outcomes": dict(sorted(outcomes.items()))}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
