"""``ads-bench models check SPEC`` and ``ads-bench models serve SPEC``."""

from __future__ import annotations

import signal
import time

import click
from rich.table import Table

from ads_bench.cli.common import console, prices_option, run_async, runtime_from
from ads_bench.errors import UserError
from ads_bench.models import ChatRequest
from ads_bench.models.spec import parse_spec


@click.group()
def models() -> None:
    """Check that a model spec answers, or serve a local GGUF over HTTP."""


@models.command()
@click.argument("spec")
@click.option("--prompt", default="In one sentence: why is the sky blue?", show_default=True)
@click.option("--max-tokens", default=48, show_default=True)
@prices_option
@click.pass_context
def check(ctx: click.Context, spec: str, prompt: str, max_tokens: int, prices: str | None) -> None:
    """One real round trip to SPEC: the reply, latency, tokens/s and cost (never cached)."""
    runtime = runtime_from(ctx, prices)
    runtime.cache = None  # a check must reach the engine

    async def go():
        model = runtime.model(spec, role="policy")
        started = time.perf_counter()
        await model.start()
        loaded = time.perf_counter() - started
        [response] = await model.generate([ChatRequest.user(prompt, max_tokens=max_tokens)])
        await runtime.aclose()
        return model, loaded, response

    model, loaded, response = run_async(go())
    if not response.ok:
        raise UserError(f"{spec} answered with an error: {response.error}")
    completion = response.completions[0]
    totals = runtime.ledger.total()
    table = Table(show_header=False, box=None)
    table.add_row("model", f"{model.name}  [dim]({model.label})[/dim]")
    table.add_row("reply", completion.text.strip() or "[dim](empty)[/dim]")
    table.add_row("finish", str(completion.finish_reason))
    table.add_row("start", f"{loaded:.2f} s (load or connect)")
    table.add_row("latency", f"{completion.latency_s:.2f} s")
    rate = completion.usage.completion_tokens / completion.latency_s if completion.latency_s else 0
    table.add_row(
        "tokens",
        f"{completion.usage.prompt_tokens} prompt + {completion.usage.completion_tokens} completion "
        f"({rate:.1f} tokens/s)",
    )
    table.add_row("cost", f"${totals.cost_usd:.6f}")
    console.print(table)


@models.command()
@click.argument("spec", default="embedded")
@click.option("--port", default=8011, show_default=True)
@click.option("--parallel", default=4, show_default=True, help="Concurrent slots (continuous batching; above 1 the engine runs with determinism=fast).")
@click.option("--ctx", default=None, type=int, help="Context tokens per slot (default: the model's).")
@click.option("--api-key-env", default=None, help="Require the key held in this environment variable.")
def serve(spec: str, port: int, parallel: int, ctx: int | None, api_key_env: str | None) -> None:
    """Serve a GGUF (default: the embedded model) as an OpenAI-compatible server on 127.0.0.1."""
    import os

    from ads_bench.models.embedded import serve as start_server

    parsed = parse_spec(spec)
    if parsed.backend != "embedded":
        raise UserError(f"only GGUF specs can be served here (embedded or gguf:/path), not '{spec}'")
    parsed.options.setdefault("parallel", parallel)
    if int(parsed.options["parallel"]) > 1:
        # parallel slots batch requests together, so a server is fast rather than exact; its
        # clients (HTTP backends) promise no exact rerun anyway
        parsed.options.setdefault("determinism", "fast")
    if ctx:
        parsed.options.setdefault("ctx", ctx)
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        raise UserError(f"--api-key-env {api_key_env} is empty: export {api_key_env}=... first")
    engine = start_server(parsed, port=port, api_key=api_key)
    console.print(
        f"serving {parsed.label} at {engine.address}/v1 — use the spec "
        f"[bold]{engine.address}/v1::{parsed.label}[/bold]; Ctrl-C stops it",
        highlight=False,
    )
    stop = False

    def handle(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    while not stop:
        time.sleep(0.2)
