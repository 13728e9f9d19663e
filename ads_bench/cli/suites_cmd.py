"""``ads-bench suites``: check a suite YAML, build the in-house suites."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from ads_bench.errors import UserError


@click.group("suites")
def suites() -> None:
    """Validate suite files and build the in-house suites."""


@suites.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def validate(file: Path, as_json: bool) -> None:
    """Check a suite YAML: keys, data readable, fields present, references joined, split possible."""
    from ads_bench.suites import validate_suite_file

    if not file.is_file():
        raise UserError(f"no suite file at {file}: give the path of a suite YAML")
    report = validate_suite_file(file)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(f"ok: {file}")
    for key, value in report.items():
        if key == "categories":
            shown = ", ".join(f"{k or '(none)'} {v}" for k, v in list(value.items())[:12])
            more = f" ... (+{len(value) - 12})" if len(value) > 12 else ""
            click.echo(f"  {'categories':<18} {len(value)}: {shown}{more}")
        elif isinstance(value, dict):
            click.echo(f"  {key:<18} " + ", ".join(f"{k}={v}" for k, v in value.items()))
        else:
            click.echo(f"  {key:<18} {value}")


@suites.command("build-inhouse")
@click.option(
    "--pool",
    "pools",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Instruction file or local `datasets` folder (repeatable); default: the shipped pool.",
)
@click.option(
    "--field",
    "instruction_field",
    default="instruction",
    show_default=True,
    help="Field holding the instruction in --pool files (dotted for nested).",
)
@click.option(
    "--input-field",
    default=None,
    help="Optional field holding an input appended to the instruction.",
)
@click.option(
    "--n-tasks",
    default=500,
    show_default=True,
    type=int,
    help="Tasks in `inhouse`; the rest go to `inhouse-train`.",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--method",
    type=click.Choice(["kmeans", "agglomerative"]),
    default="agglomerative",
    show_default=True,
)
@click.option(
    "--mean-cluster-size",
    default=8.0,
    show_default=True,
    type=float,
    help="Clusters = pool size / this.",
)
@click.option(
    "--min-size",
    default=5,
    show_default=True,
    type=int,
    help="Smallest task kept (>= 5: 3 observed + 2 held-out).",
)
@click.option(
    "--max-size", default=30, show_default=True, type=int, help="Larger clusters are split."
)
@click.option(
    "--ngram",
    default=8,
    show_default=True,
    type=int,
    help="Decontamination n-gram length (GPT-3: 8..13).",
)
@click.option(
    "--compare-methods",
    is_flag=True,
    help="Also measure k-means vs agglomerative tightness (report).",
)
@click.option(
    "--expand-with",
    default=None,
    metavar="SPEC",
    help="Grow tasks by Self-Instruct with this model spec.",
)
@click.option(
    "--target-size", default=None, type=int, help="Instructions per task after expansion."
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: tasks/data/inhouse).",
)
def build_inhouse_cmd(
    pools: tuple[Path, ...],
    instruction_field: str,
    input_field: str | None,
    n_tasks: int,
    seed: int,
    method: str,
    mean_cluster_size: float,
    min_size: int,
    max_size: int,
    ngram: int,
    compare_methods: bool,
    expand_with: str | None,
    target_size: int | None,
    out_dir: Path | None,
) -> None:
    """Cluster an instruction pool into tasks, decontaminate, split into inhouse / inhouse-train."""
    from ads_bench import paths
    from ads_bench.suites.inhouse.build import BuildConfig, build_inhouse, write_build
    from ads_bench.suites.inhouse.pool import PoolSource, default_pool_sources

    sources = (
        tuple(PoolSource(p, instruction_field, input_field) for p in pools)
        or default_pool_sources()
    )
    config = BuildConfig(
        sources=sources,
        n_tasks=n_tasks,
        seed=seed,
        method=method,
        mean_cluster_size=mean_cluster_size,  # type: ignore[arg-type]
        min_size=min_size,
        max_size=max_size,
        ngram=ngram,
        compare_methods=compare_methods,
        expand_with=expand_with,
        target_size=target_size,
    )
    generate = _expansion_model(expand_with) if expand_with else None
    result = build_inhouse(config, generate=generate, log=lambda m: click.echo(m, err=True))
    out = out_dir or paths.tasks_dir() / "data" / "inhouse"
    command = _command_line(click.get_current_context())
    written = write_build(result, out, command=command.strip())
    for name in ("inhouse", "inhouse-train"):
        part = result.report[name]
        click.echo(f"{name}: {part['tasks']} tasks, {part['instructions']} instructions")
    click.echo(
        f"decontamination removed {result.report['decontamination']['removed']} instructions"
    )
    for path in written.values():
        click.echo(f"wrote {path}")


def _command_line(ctx: click.Context) -> str:
    """The command as it would be typed: options that differ from their defaults, and the seed."""
    parts = ["ads-bench suites", ctx.command.name or "build-inhouse"]
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name is None:
            continue
        value = ctx.params.get(param.name)
        flag = param.opts[0]
        if param.name != "seed" and (value == param.default or value in (None, (), False)):
            continue
        if param.is_flag:
            parts.append(flag)
        elif param.multiple:
            parts += [f"{flag} {shlex.quote(str(item))}" for item in value]
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


def _expansion_model(spec: str):
    try:
        from ads_bench.models import open_model
    except ImportError as exc:
        raise UserError(
            "the model interface (ads_bench.models.open_model) is not available in this checkout"
        ) from exc
    model = open_model(spec, role="expert")
    return model.generate_sync


@suites.command("build-observed")
@click.option("--suite", "suite_name", required=True, help="A suite of layout 'row' (a public benchmark).")
@click.option("--model", "model_spec", default="embedded", show_default=True,
              help="Model spec that writes the instructions (Self-Instruct).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--n", "n", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Observed instructions per task (the paper: 3).")
@click.option("--max-attempts", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Requests per task at most, while fewer than --n survive the filters.")
@click.option("--max-tokens", default=128, show_default=True, type=click.IntRange(16, 4096))
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N tasks (a trial).")
@click.option("--out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Output JSONL (default: observed-<model>-seed<N>.jsonl beside the suite's data).")
def build_observed_cmd(suite_name: str, model_spec: str, seed: int, n: int, max_attempts: int,
                       max_tokens: int, limit: int | None, out: Path | None) -> None:
    """Write Self-Instruct observed instructions for a public benchmark, so that its prompts stay
    held out (ROUGE-L <= 0.7 against the prompt, as in the ADS paper). Resumable: run it again
    after a kill and it continues."""
    from ads_bench.cli.observed_cmd import run_build_observed

    # --limit only chooses how many tasks this invocation builds (each task's result does not
    # depend on it), so the provenance names the command that builds them all
    command = _command_line(click.get_current_context())
    command = " ".join(command.replace(f" --limit {limit}", "").split()) if limit else command
    run_build_observed(suite_name, model_spec, seed=seed, n=n, max_attempts=max_attempts,
                       max_tokens=max_tokens, limit=limit, out=out, command=command,
                       expansion_model=_expansion_model)


from ads_bench.cli.wikifacts_cmd import build_wikifacts_cmd  # noqa: E402  (its own module)

suites.add_command(build_wikifacts_cmd)
