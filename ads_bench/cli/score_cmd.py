"""``ads-bench score``: metrics of existing judgment files (AlpacaEval, Arena-Hard, MT-Bench)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from ads_bench.errors import UserError

FORMAT_NAMES = ("alpaca_eval", "arena_hard", "mt_bench")
STYLE_CHOICES = {
    "none": (),
    "all": ("length", "headers", "lists", "bold"),
    "length": ("length",),
    "markdown": ("headers", "lists", "bold"),
}


@dataclass(frozen=True)
class ScoreOptions:
    questions: Path | None
    baseline: str | None
    rounds: int
    seed: int
    strong_weight: int
    first_game_only: bool
    style: str
    answers: tuple[Path, ...]
    lc_difficulty: Path | None
    lc_gamed: Path | None
    normalize_labels: bool = False


def _only_for(format_name: str, options: ScoreOptions) -> None:
    """Reject options that mean nothing for the chosen format, rather than ignore them."""
    owners = {
        "--questions": (options.questions is not None, ("mt_bench", "arena_hard")),
        "--baseline": (options.baseline is not None, ("arena_hard",)),
        "--style-control": (options.style != "none", ("arena_hard",)),
        "--answers": (bool(options.answers), ("arena_hard",)),
        "--first-game-only": (options.first_game_only, ("arena_hard",)),
        "--normalize-labels": (options.normalize_labels, ("arena_hard",)),
        "--lc-difficulty": (options.lc_difficulty is not None, ("alpaca_eval",)),
        "--lc-gamed": (options.lc_gamed is not None, ("alpaca_eval",)),
    }
    for flag, (given, formats) in owners.items():
        if given and format_name not in formats:
            raise UserError(
                f"{flag} applies to {' and '.join(formats)} files, not {format_name}; drop it"
            )


def _score_alpaca_eval(files: tuple[Path, ...], options: ScoreOptions) -> dict:
    from ads_bench.judging.format_alpaca_eval import (
        read_alpaca_eval,
        read_gamed_annotations,
        read_instruction_difficulty,
    )
    from ads_bench.judging.metrics.published import summarize_alpaca_eval

    if len(files) != 1:
        raise UserError("alpaca_eval scores one annotations file at a time; pass a single FILE")
    annotations = read_alpaca_eval(files[0])
    difficulty = (
        read_instruction_difficulty(options.lc_difficulty) if options.lc_difficulty else None
    )
    gamed = read_gamed_annotations(options.lc_gamed) if options.lc_gamed else None
    return summarize_alpaca_eval(annotations, instruction_difficulty=difficulty, gamed=gamed)


def _score_arena_hard(files: tuple[Path, ...], options: ScoreOptions) -> dict:
    from ads_bench.judging.format_arena_hard import read_arena_hard, read_arena_hard_style
    from ads_bench.judging.format_mt_bench import read_questions
    from ads_bench.judging.metrics.published import summarize_arena_hard

    style = STYLE_CHOICES[options.style]
    if style and not options.answers:
        raise UserError(
            "--style-control needs the answers' style: pass --answers with the model_answer "
            "files (or folder) of every model and of the baseline"
        )
    judgments = read_arena_hard(files)
    style_counts = read_arena_hard_style(options.answers) if style else None
    questions = read_questions(options.questions) if options.questions else None
    try:
        return summarize_arena_hard(
            judgments,
            baseline=options.baseline,
            rounds=options.rounds,
            seed=options.seed,
            strong_weight=options.strong_weight,
            first_game_only=options.first_game_only,
            style=style,
            style_counts=style_counts,
            clusters=questions,
            normalize=options.normalize_labels,
        )
    except KeyError as missing:
        raise UserError(f"{missing.args[0]}: pass --answers for every judged model") from None


def _score_mt_bench(files: tuple[Path, ...], options: ScoreOptions) -> dict:
    from ads_bench.judging.format_mt_bench import read_mt_bench, read_questions
    from ads_bench.judging.metrics.published import summarize_mt_bench

    questions = read_questions(options.questions) if options.questions else None
    return summarize_mt_bench(read_mt_bench(files), questions)


SCORERS: dict[str, Callable[[tuple[Path, ...], ScoreOptions], dict]] = {
    "alpaca_eval": _score_alpaca_eval,
    "arena_hard": _score_arena_hard,
    "mt_bench": _score_mt_bench,
}


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _render_alpaca_eval(result: dict):
    from rich.table import Table

    table = Table(title=f"AlpacaEval: {result['model']} vs {result['reference']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("LC win rate (%)", _number(result.get("length_controlled_winrate"))),
        ("LC method", result.get("lc_method") or "—"),
        ("win rate (%)", _number(result["win_rate"])),
        ("standard error", _number(result["standard_error"])),
        ("discrete win rate (%)", _number(result["discrete_win_rate"])),
        (
            "wins / losses / draws",
            f"{result['n_wins']} / {result['n_wins_base']} / {result['n_draws']}",
        ),
        ("judged", str(result["n_total"])),
        ("failed judgments", str(result["n_failed"])),
        ("average length (chars)", str(result.get("avg_length", "—"))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    if result.get("lc_note"):
        table.caption = f"LC {result['lc_note']}"
    return table


def _render_arena_hard(result: dict):
    from rich.table import Table

    title = (
        f"Arena-Hard: win rate vs {result['baseline']} (Bradley–Terry, {result['rounds']} rounds)"
    )
    table = Table(title=title)
    for column in ("model", "score (%)", "95% CI", "rating", "battles", "failed games"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for entry in result["models"]:
        interval = (
            "—"
            if entry["lower"] is None
            else f"(-{entry['score'] - entry['lower']:.1f}, +{entry['upper'] - entry['score']:.1f})"
        )
        table.add_row(
            entry["model"],
            _number(entry["score"], 1),
            interval,
            _number(entry["rating"], 0),
            str(entry["n_battles"]),
            f"{entry['n_failed_games']}/{entry['n_games']}" if entry["n_games"] else "—",
        )
    caption = ["labels normalised (B=A, A<B ... read)" if result.get("normalize_labels")
               else "only A>>B, A>B, A=B, B>A, B>>A count (v0.1); other labels are failed games"]
    if result["separability"] is not None:
        caption.append(f"separability {result['separability'] * 100:.1f}%")
    if result["style_coefficients"]:
        caption.append(
            "style "
            + ", ".join(
                f"{name} {value:+.3f}" for name, value in result["style_coefficients"].items()
            )
        )
    table.caption = "; ".join(caption) or None
    return table


def _render_mt_bench(result: dict):
    from rich.console import Group
    from rich.table import Table

    turns = sorted({key for entry in result["models"] for key in entry if key.startswith("turn_")})
    table = Table(title="MT-Bench single-answer grades (1-10)")
    table.add_column("model")
    for turn in turns:
        table.add_column(turn.replace("_", " "), justify="right")
    table.add_column("average", justify="right")
    table.add_column("judged", justify="right")
    table.add_column("failed", justify="right")
    for entry in result["models"]:
        cells = [_number(entry.get(turn, {}).get("score")) for turn in turns]
        average = entry["average"]
        table.add_row(
            entry["model"],
            *cells,
            _number(average["score"]),
            str(average["n"]),
            str(average["n_failed"]),
        )
    renderables = [table]
    categories = sorted(
        {name for entry in result["models"] for name in entry.get("categories", {})}
    )
    if categories:
        by_category = Table(title="MT-Bench by category")
        by_category.add_column("model")
        for name in categories:
            by_category.add_column(name, justify="right")
        for entry in result["models"]:
            values = entry.get("categories", {})
            by_category.add_row(
                entry["model"], *[_number(values.get(name, {}).get("score")) for name in categories]
            )
        renderables.append(by_category)
    return Group(*renderables)


RENDERERS = {
    "alpaca_eval": _render_alpaca_eval,
    "arena_hard": _render_arena_hard,
    "mt_bench": _render_mt_bench,
}


@click.command("score")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMAT_NAMES),
    default=None,
    help="Judgment format. Default: detected from the content (a JSON list is alpaca_eval; "
    "JSONL with 'games' arena_hard; JSONL with 'turn' and 'score' mt_bench).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="question.jsonl: per-category MT-Bench scores; for arena_hard, resample its topic "
    "clusters instead of single battles.",
)
@click.option(
    "--baseline",
    default=None,
    help="arena_hard: baseline model (default: the files' 'baseline', else gpt-4-0314).",
)
@click.option(
    "--rounds",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="arena_hard: bootstrap rounds.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="arena_hard: bootstrap seed.")
@click.option(
    "--strong-weight",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="arena_hard: battles per strong verdict (A>>B).",
)
@click.option("--first-game-only", is_flag=True, help="arena_hard: use game 1 only.")
@click.option(
    "--normalize-labels",
    is_flag=True,
    help="arena_hard: also read other spellings of a verdict (B=A as a tie, A<B, B<A, A<<B, B<<A), "
    "for files from other judges. Off by default: like Arena-Hard-Auto v0.1's show_result.py, only "
    "A>>B, A>B, A=B, B>A and B>>A count and any other label drops that game.",
)
@click.option(
    "--style-control",
    "style",
    type=click.Choice(tuple(STYLE_CHOICES)),
    default="none",
    show_default=True,
    help="arena_hard: control for answer length and/or markdown.",
)
@click.option(
    "--answers",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    help="arena_hard style control: model_answer JSONL files or folders (repeatable).",
)
@click.option(
    "--lc-difficulty",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="alpaca_eval: AlpacaEval's instruction_difficulty.csv for the LC GLM.",
)
@click.option(
    "--lc-gamed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="alpaca_eval: AlpacaEval's df_gamed.csv; it also carries the difficulty, and gives "
    "the leaderboard's own LC GLM (length_controlled_v1).",
)
def score(
    files: tuple[Path, ...],
    format_name: str | None,
    as_json: bool,
    questions: Path | None,
    baseline: str | None,
    rounds: int,
    seed: int,
    strong_weight: int,
    first_game_only: bool,
    style: str,
    answers: tuple[Path, ...],
    lc_difficulty: Path | None,
    lc_gamed: Path | None,
    normalize_labels: bool,
) -> None:
    """Compute a benchmark's metrics from its published judgment FILES.

    AlpacaEval annotations give the (length-controlled) win rate; Arena-Hard judgments the
    Bradley–Terry win rate against the baseline with bootstrap CIs; MT-Bench single-answer
    judgments the mean grade per turn (and category). Failed judgments are counted and shown.
    """
    from ads_bench.judging.formats import detect_format

    options = ScoreOptions(
        questions,
        baseline,
        rounds,
        seed,
        strong_weight,
        first_game_only,
        style,
        answers,
        lc_difficulty,
        lc_gamed,
        normalize_labels,
    )
    name = format_name or detect_format(files[0])
    _only_for(name, options)
    try:
        result = SCORERS[name](files, options)
    except ValueError as error:
        raise UserError(f"cannot score {', '.join(map(str, files))}: {error}") from None
    if as_json:
        click.echo(json.dumps(result, allow_nan=False))
        return
    from rich.console import Console

    Console().print(RENDERERS[name](result))
