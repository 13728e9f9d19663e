"""A small, deterministic OpenAI-compatible server for tests and benchmarks, with fault injection.

It stands in for a remote API: a real HTTP server on 127.0.0.1 that the real client talks to over
real sockets. Every reply is a pure function of the request (model, messages, sampling parameters,
seed, sample index), so two runs against it must give identical results, and every fault is
injected at a chosen request index, so a test can say exactly what went wrong and when.

Replies:
- a judge prompt asking for ``[[rating]]`` gets ``Rating: [[k]]`` (k in 1..10);
- a judge prompt listing ``[[A>>B]]``-style verdicts gets ``My final verdict is [[A>B]]`` (one of
  the five labels);
- a request for logprobs gets one token, ``m`` or ``M``, with both in its top logprobs;
- anything else gets a short deterministic text of at most ``max_tokens`` words.

Faults (``--faults``, or ``FaultPlan`` in-process): ``INDEX:KIND`` items, comma-separated, where
INDEX is the 1-based number of the chat-completion request as it arrives and KIND is one of
``500``, ``503``, ``429`` (each optionally ``+ra=SECONDS`` or ``+radate=SECONDS`` for a
``Retry-After`` header in seconds or in HTTP-date form), ``hang`` (no reply for ``--hang``
seconds: a client timeout), ``drop`` (close the connection without a reply), ``bad_json``,
``no_choices``, ``empty_length`` (empty content with ``finish_reason: length``), ``nan_logprobs``.
``--fault-rate P --fault-seed S`` adds random faults of ``--fault-kinds`` on top.

Noise (``--noise P --noise-seed S``, or ``FaultPlan(noise=P)``): each request, with probability P
drawn from the seed and its arrival index, is answered as if it were another one, so identical
requests can get different replies, as from a remote API that is not deterministic (the
between-run variance that ``--repeats`` measures). Without noise every reply stays a pure function
of the request.

``GET /stats`` gives the counts: requests received, replies completed, faults served. With
``--log FILE`` every chat request is appended to FILE as one JSON line when it arrives.

Run it as a process: ``python tests/openai_server.py --port 0`` prints ``PORT <n>`` on its first
line and serves until killed. In-process: ``with serve(FaultPlan(...)) as server: server.url``.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import random
import sys
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS = ("500", "503", "429", "hang", "drop", "bad_json", "no_choices", "empty_length", "nan_logprobs")
VERDICTS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
_SENTENCE = (
    "the answer depends on context and careful reading of each detail matters here so we consider "
    "several points in turn first second third finally a summary follows with examples and notes"
)
WORDS = _SENTENCE.split()


@dataclass
class FaultPlan:
    """Which chat-completion request (1-based, in arrival order) gets which fault."""

    at: dict[int, str] = field(default_factory=dict)
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = ("503", "bad_json")
    hang_seconds: float = 30.0
    delay_seconds: float = 0.0  # before every reply, so a kill can land while requests are in flight
    noise: float = 0.0  # probability that a request is answered as if it were another (see the module doc)
    noise_seed: int = 0

    @classmethod
    def parse(cls, text: str, **kwargs: Any) -> FaultPlan:
        at = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            index, kind = item.split(":", 1)
            if kind.split("+")[0] not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}: use one of {', '.join(FAULT_KINDS)}")
            at[int(index)] = kind
        return cls(at=at, **kwargs)

    def fault_for(self, index: int) -> str | None:
        if index in self.at:
            return self.at[index]
        if self.rate and random.Random(f"{self.seed}:{index}").random() < self.rate:
            return random.Random(f"{self.seed}:{index}:kind").choice(self.kinds)
        return None

    def noise_for(self, index: int) -> int | None:
        """The salt that changes request ``index``'s reply, or None (its ordinary reply)."""
        if self.noise and random.Random(f"noise:{self.noise_seed}:{index}").random() < self.noise:
            return random.Random(f"noise:{self.noise_seed}:{index}:salt").getrandbits(32)
        return None


def _digest(*parts: Any) -> int:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return int(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12], 16)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def reply_for(body: dict[str, Any], sample: int, noise: int | None = None) -> dict[str, Any]:
    """The deterministic choice for sample ``sample`` of this request (another one under ``noise``)."""
    messages = body.get("messages", [])
    prompt = "\n".join(str(m.get("content", "")) for m in messages)
    key = _digest(body.get("model"), messages, body.get("temperature"), body.get("top_p"),
                  body.get("seed"), body.get("max_tokens"), sample, *(() if noise is None else (noise,)))
    logprobs = None
    if body.get("logprobs"):
        p_first = 0.05 + 0.9 * ((key % 1000) / 999)
        first_lp, second_lp = _log(p_first), _log(1 - p_first)
        token = "m" if p_first >= 0.5 else "M"
        top = [{"token": "m", "logprob": first_lp, "bytes": None},
               {"token": "M", "logprob": second_lp, "bytes": None}]
        text = token
        logprobs = {"content": [{"token": token, "logprob": max(first_lp, second_lp), "bytes": None,
                                 "top_logprobs": top[: max(1, int(body.get("top_logprobs") or 2))]}]}
    elif "[[rating]]" in prompt:
        text = f"The answer is adequate. Rating: [[{1 + key % 10}]]"
    elif "[[A>>B]]" in prompt:
        text = f"Both are fine. My final verdict is [[{VERDICTS[key % len(VERDICTS)]}]]"
    else:
        budget = max(1, min(int(body.get("max_tokens") or 16), 24))
        words = [WORDS[(key >> (i % 40)) % len(WORDS) if i else key % len(WORDS)] for i in range(budget)]
        text = " ".join(words)
    return {"text": text, "logprobs": logprobs, "completion_tokens": len(text.split()) or 1}


def _log(p: float) -> float:
    import math

    return math.log(p)


class _State:
    def __init__(self, plan: FaultPlan, log_path: str | None):
        self.plan = plan
        self.log_path = log_path
        self.lock = threading.Lock()
        self.received = 0
        self.completed = 0
        self.faults: dict[str, int] = {}

    def arrive(self, body: dict[str, Any]) -> tuple[int, str | None]:
        with self.lock:
            self.received += 1
            index = self.received
            fault = self.plan.fault_for(index)
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps({"index": index, "fault": fault, "body": body},
                                            ensure_ascii=False) + "\n")
        return index, fault

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {"received": self.received, "completed": self.completed, "faults": dict(self.faults)}


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, payload: bytes | str, headers: dict[str, str] | None = None) -> None:
            data = payload.encode() if isinstance(payload, str) else payload
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}))
            elif self.path.startswith("/stats"):
                self._send(200, json.dumps(state.stats()))
            elif self.path.startswith("/health"):
                self._send(200, b'{"status": "ok"}')
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            body = json.loads(raw)
            index, fault = state.arrive(body)
            if state.plan.delay_seconds:
                time.sleep(state.plan.delay_seconds)
            if fault and self._fault(fault):
                return
            n = int(body.get("n") or 1)
            choices = []
            usage_out = 0
            noise = state.plan.noise_for(index)
            for i in range(n):
                reply = reply_for(body, i, noise)
                usage_out += reply["completion_tokens"]
                content: Any = reply["text"]
                finish = "stop"
                logprobs = reply["logprobs"]
                if fault == "empty_length":
                    content, finish = "", "length"
                if fault == "nan_logprobs" and logprobs:
                    for top in logprobs["content"][0]["top_logprobs"]:
                        top["logprob"] = float("nan")
                choices.append({"index": i, "message": {"role": "assistant", "content": content},
                                "finish_reason": finish, "logprobs": logprobs})
            prompt_tokens = _tokens("".join(str(m.get("content", "")) for m in body.get("messages", [])))
            payload = {
                "id": f"chatcmpl-{index}", "object": "chat.completion", "created": 0,
                "model": body.get("model", "fake"), "choices": choices,
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": usage_out,
                          "total_tokens": prompt_tokens + usage_out},
            }
            # json.dumps writes NaN as the bare token NaN, as a faulty server would
            self._send(200, json.dumps(payload, ensure_ascii=False))
            with state.lock:
                state.completed += 1

        def _fault(self, fault: str) -> bool:
            """Serve a fault that replaces the reply; False for faults that alter a normal reply."""
            kind, _, option = fault.partition("+")
            headers = {}
            if option.startswith("radate="):
                when = time.time() + float(option.split("=", 1)[1])
                headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
            elif option.startswith("ra="):
                headers["Retry-After"] = option.split("=", 1)[1]
            if kind in ("500", "503", "429"):
                self._send(int(kind), json.dumps({"error": {"message": f"injected {kind}"}}), headers)
                return True
            if kind == "hang":
                time.sleep(state.plan.hang_seconds)
                self.close_connection = True
                return True
            if kind == "drop":
                self.close_connection = True
                self.connection.close()
                return True
            if kind == "bad_json":
                self._send(200, b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": {"rol')
                return True
            if kind == "no_choices":
                self._send(200, json.dumps({"id": "chatcmpl-x", "object": "chat.completion", "choices": [],
                                            "usage": {"prompt_tokens": 1, "completion_tokens": 0}}))
                return True
            return False

    return Handler


class _QuietHTTPServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that timed out or gave up hangs up on a reply in progress: expected here
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Server:
    def __init__(self, plan: FaultPlan | None = None, *, port: int = 0, log_path: str | None = None):
        self.state = _State(plan or FaultPlan(), log_path)
        self.httpd = _QuietHTTPServer(("127.0.0.1", port), _handler(self.state))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None

    def spec(self, model: str = "fake", **options: Any) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"{self.url}::{model}" + (f"?{query}" if query else "")

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def start(self) -> Server:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serve(plan: FaultPlan | None = None, **kwargs: Any):
    server = Server(plan, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--faults", default="")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--fault-kinds", default="503,bad_json")
    parser.add_argument("--hang", type=float, default=30.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--log", default=None)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--noise-seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan = FaultPlan.parse(args.faults, rate=args.fault_rate, seed=args.fault_seed,
                           kinds=tuple(args.fault_kinds.split(",")), hang_seconds=args.hang,
                           delay_seconds=args.delay, noise=args.noise, noise_seed=args.noise_seed)
    server = Server(plan, port=args.port, log_path=args.log)
    print(f"PORT {server.port}", flush=True)
    with suppress(KeyboardInterrupt):
        server.httpd.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
