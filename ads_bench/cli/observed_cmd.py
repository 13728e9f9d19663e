"""``ads-bench suites build-observed``: resolve the suite's YAML, build or finish its observed set."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import click

from ads_bench.errors import UserError


def suite_spec_path(suite_name: str) -> Path:
    """The YAML file behind a suite name (or the path given)."""
    if suite_name.endswith((".yaml", ".yml")):
        path = Path(suite_name)
        if not path.is_file():
            raise UserError(f"no suite file at {path}: give a suite name or the path of a suite YAML")
        return path
    from ads_bench.suites import suite_names
    from ads_bench.suites._registry import suite_entries

    entry = suite_entries().get(suite_name)
    if entry is None or entry.file is None:
        yaml_suites = [n for n, e in suite_entries().items() if e.file]
        raise UserError(
            f"build-observed needs a suite defined by a YAML file; {suite_name!r} is not one "
            f"(known: {', '.join(yaml_suites) or ', '.join(suite_names())})"
        )
    return Path(entry.file)


def run_build_observed(
    suite_name: str,
    model_spec: str,
    *,
    seed: int,
    n: int,
    max_attempts: int,
    max_tokens: int,
    limit: int | None,
    out: Path | None,
    command: str,
    expansion_model: Callable[[str], Callable],
) -> None:
    from ads_bench.suites.observed_build import BuildSettings, build_observed, default_file_name
    from ads_bench.suites.yaml_spec import load_spec
    from ads_bench.suites.yaml_suite import build_suite

    spec = load_spec(suite_spec_path(suite_name))
    if spec.layout != "row":
        raise UserError(
            f"suite {spec.name!r} has layout {spec.layout!r}: it splits its own instructions into "
            "observed and held-out ones; build-observed is for one-prompt-a-task suites (layout 'row')"
        )
    # the held-out prompts, read without the (possibly unfinished) observed set this builds
    suite, _ = build_suite(dataclasses.replace(spec, observed_file=None))
    tasks = list(suite.limited(limit).tasks)
    out = out or spec.data.parent / default_file_name(model_spec, seed)
    settings = BuildSettings(model=model_spec, seed=seed, n=n, max_attempts=max_attempts,
                             max_tokens=max_tokens)
    generate = expansion_model(model_spec)
    summary = build_observed(spec.name, tasks, generate, settings, out, command=command.strip(),
                             log=lambda message: click.echo(message, err=True))
    click.echo(
        f"{spec.name}: {summary['built']}/{summary['tasks']} tasks, {summary['observed']} observed "
        f"instructions; {summary[f'tasks_with_{n}']} tasks have {n}, {summary['tasks_with_none']} have none"
    )
    click.echo(f"dropped: {summary['dropped'] or 'none'}")
    click.echo(f"wrote {out}")
    named = spec.observed_file.resolve() if spec.observed_file else None
    if named != out.resolve():
        click.echo(f"to use it, set `observed_file: {out.name}` (a path relative to {spec.path}) in {spec.path}")
