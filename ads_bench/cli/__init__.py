"""The ``ads-bench`` command line.

Each command lives in its own module under ``ads_bench/cli/`` and is imported only when it
runs, so ``ads-bench --help`` stays fast (torch, transformers and the engines load lazily).
"""

from __future__ import annotations

import importlib
import importlib.util  # `import importlib` alone does not load it (a bare install showed it)
import os
import signal
import sys
import threading

import click

from ads_bench import __version__
from ads_bench.errors import UserError

# command name -> "module:attribute" of a click.Command; help text shown without importing it
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("ads_bench.cli.models_cmd:models", "Check or serve a model spec."),
    "cache": ("ads_bench.cli.cache_cmd:cache", "Inspect or clear the response cache."),
    "list": ("ads_bench.cli.list_cmd:list_registries", "List registered backends, suites, strategies ..."),
    "score": ("ads_bench.cli.score_cmd:score", "Compute metrics from existing judgment files."),
    "suites": ("ads_bench.cli.suites_cmd:suites", "Validate or build task suites."),
    "evaluate": ("ads_bench.cli.evaluate_cmd:evaluate", "Answer a suite's prompts with a model and judge them."),
    "judges": ("ads_bench.cli.judges_cmd:judges", "Judge the judge: position and length bias, agreement, cost."),
    "run": ("ads_bench.cli.run_cmd:run", "Acquire data with a strategy, teach the policy, judge the gain."),
    "train": ("ads_bench.cli.train_cmd:train", "Train the ADS optimizer (rejection-sampling SFT, then DPO)."),
    "leaderboard": ("ads_bench.cli.leaderboard_cmd:leaderboard", "Compare run folders in one table."),
    "report": ("ads_bench.cli.report_cmd:report", "Render a run or results folder as one HTML file."),
    "sweep": ("ads_bench.cli.sweep_cmd:sweep", "Run a grid of experiments from a config file."),
    "estimate": ("ads_bench.cli.estimate_cmd:estimate", "What run/evaluate/train/sweep would cost, before any call."),
    "rescore": ("ads_bench.cli.rescore_cmd:rescore", "Re-judge a finished run with another judge."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0].split(":")[0]
    return importlib.util.find_spec(module) is not None


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _available(name):
            return None
        target, _ = COMMANDS[name]
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ads-bench")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where responses, converted weights and indexes are cached (default: user cache dir; env ADS_BENCH_CACHE_DIR).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the response cache.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, cache_dir: str | None, no_cache: bool) -> None:
    """ads-bench: benchmark active data search — which data should a model acquire to improve?"""
    if cache_dir:
        os.environ["ADS_BENCH_CACHE_DIR"] = cache_dir
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, no_cache=no_cache)


_terminated = False  # set when SIGTERM ended the command: exit status 143, as the shell expects


def _sigterm_as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM takes Ctrl-C's path: whatever handles SIGINT now unwinds the command (inside
    asyncio.run, cancelling its task, which also kills training workers; else KeyboardInterrupt),
    so pools shut down, everything finished stays saved and a rerun resumes."""
    global _terminated
    _terminated = True
    on_interrupt = signal.getsignal(signal.SIGINT)
    if not callable(on_interrupt):  # SIGINT ignored (a background job) or left to the system
        raise KeyboardInterrupt
    on_interrupt(signal.SIGINT, frame)


def _interrupted() -> None:
    click.echo("interrupted: everything finished so far is saved; rerun to resume", err=True)
    # A generation in flight in an engine thread cannot be cancelled, and Python's exit waits for
    # such threads: a long judgment kept the process (and its engine) running for minutes after
    # SIGTERM. Its result would be thrown away and everything finished is on disk, so leave now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(143 if _terminated else 130)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line and exit status 2; ``--debug`` shows tracebacks."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ADS_BENCH_DEBUG") == "1"
    global _terminated
    _terminated = False
    if not sys.stderr.isatty():
        # third-party progress bars (tqdm: transformers' GGUF de-quantising, datasets) redraw with
        # carriage returns that a log file keeps as one unreadable line; ours print a line a stage
        os.environ.setdefault("TQDM_DISABLE", "1")
    # only the main thread may set handlers; main() run in-process (tests) leaves them as they were
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _sigterm_as_ctrl_c) if in_main_thread else None
    try:
        status = cli.main(args=args, prog_name="ads-bench", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _interrupted()
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        if debug:
            raise
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(UserError.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    if isinstance(status, int) and status:
        sys.exit(status)
