"""``ads-bench report``: a run folder or a results folder as ONE self-contained HTML file.

No network: CSS and a few lines of JS sit in the page (``templates/report.html``), plots are
inline SVG drawn by matplotlib. Everything that comes from a run's data (model output, judge
output, task text, config values) is HTML-escaped: model output is data, never markup.

Sections: an overview for a results folder (leaderboard, score vs cost, scaling curves when the
runs differ in a swept setting), then per run a summary (headline metrics, config, environment,
cost ledger), its plots, and a browser: task -> trajectory (analysis, self-reflection, calls,
dropped calls and why) -> acquired items -> answers (taught vs un-updated policy) -> judgments
(preference, verdicts, raw judge outputs). Train folders show their iterations and samples.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ads_bench.errors import UserError
from ads_bench.judging.metrics.repeats import repeats_rows, repeats_text
from ads_bench.optimizer.curve import iteration_curve_svg
from ads_bench.reporting import DEFAULT_MAX_TASKS, plots
from ads_bench.reporting.entries import Entry, estimate_text
from ads_bench.reporting.html import (
    badge,
    card,
    details,
    esc,
    figure,
    join,
    page,
    table,
    tag,
    text_block,
)
from ads_bench.reporting.leaderboard import (
    ARENA_HARD,
    WIN_RATE,
    Leaderboard,
    build_leaderboard,
    too_few_tasks_text,
)
from ads_bench.reporting.report_browser import number_text, task_browser, train_browser
from ads_bench.reporting.run_data import RunData, find_run_dirs
from ads_bench.utils.atomic import write_text_atomic

#: settings a sweep varies whose effect on the score we plot (reviewers asked for these curves)
SCALING_KEYS = ("n_observed", "budget_items", "max_calls", "budget_usd", "budget_tokens", "max_held_out")


# -- leaderboard ------------------------------------------------------------------------------------

def leaderboard_table(board: Leaderboard) -> Markup:
    rows = board.rows()
    columns = board.columns()  # COLUMNS, with repeats where a row had them
    marked = []
    for row, entry in zip(rows, board.entries, strict=True):
        cells: list[Any] = [row[c] for c in columns]
        if entry.significance not in ("", "n.s.", "baseline"):
            kind = "win" if (entry.difference or 0) > 0 else "loss"
            cells[columns.index("sig.")] = badge(entry.significance, kind)
        marked.append(cells)
    numeric = [columns.index(c) for c in ("#", "p", "$", "tokens", "calls")]
    notes = join(tag("p", note, class_="muted") for note in board.footnotes())
    return Markup(table(columns, marked, numeric) + notes + matched_spend_block(board))


def matched_spend_block(board: Leaderboard) -> Markup:
    """A budget ladder's scores at matched spend, beside the fixed-cap table (reporting/matched_spend.py)."""
    matched = board.matched_spend
    if matched is None:
        return Markup("")
    notes = join(tag("p", note, class_="muted") for note in matched.footnotes())
    return Markup(tag("h3", "Scores at matched spend", id="matched-spend") + table(matched.headers(), matched.rows())
                + notes)


def leaderboard_page(board: Leaderboard) -> str:
    body = Markup(tag("h2", "Leaderboard") + leaderboard_table(board))
    return page("ads-bench leaderboard", "ads-bench leaderboard",
                f"{len(board.entries)} runs · generated {time.strftime('%Y-%m-%d %H:%M')}", body)


# -- summary ----------------------------------------------------------------------------------------


def metric_cards(run: RunData, entry: Entry | None) -> Markup:
    metrics = run.metrics or {}
    cards = []
    if entry is not None and entry.score is not None:
        ci = f"95% CI [{number_text(entry.ci_lower, 2)}, {number_text(entry.ci_upper, 2)}]" if entry.ci_lower is not None \
            else entry.ci_note
        if entry.lc_win_rate is not None:
            ci += f" · LC {number_text(entry.lc_win_rate, 2)}"
        # a warning sits in the headline itself, so the score is never read without it
        value = join([*(badge(w, "error") + Markup("<br>") for w in entry.warnings), number_text(entry.score, 2)])
        cards.append(card(entry.metric or "score", value, ci))
        if entry.difference is not None:
            if entry.too_few_to_test:
                test = f"{too_few_tasks_text(entry.n_paired_tasks)}: no p-value, no CI"
            else:
                test = (f"95% CI [{entry.difference_lower:+.2f}, {entry.difference_upper:+.2f}], "
                        f"p = {entry.p_value:.3g}, Holm p = {entry.p_holm:.3g} {entry.significance}")
            cards.append(card(f"Δ vs {entry.baseline}", f"{entry.difference:+.2f}",
                              f"{test}; n = {entry.n_paired} prompts"))
    pairwise = metrics.get("pairwise") or {}
    if "n_wins" in pairwise:
        cards.append(card("wins / draws / losses", f"{pairwise['n_wins']} / {pairwise['n_draws']} / "
                          f"{pairwise['n_wins_base']}", f"vs {metrics.get('reference', 'reference')}"))
        cards.append(card("LC win rate %", number_text(pairwise.get("length_controlled_winrate")),
                          pairwise.get("lc_note") or ""))
        cards.append(card("judge order agreement", number_text(pairwise.get("order_agreement"), 2),
                          f"P(first position preferred) {number_text(pairwise.get('p_prefer_first_position'), 2)}"))
    single = metrics.get("single") or {}
    for turn in ("turn_1", "turn_2"):
        if single.get(turn):
            cards.append(card(f"MT-Bench {turn.replace('_', ' ')}", number_text(single[turn]["score"], 2),
                              f"n = {single[turn]['n']}, failed {single[turn]['n_failed']}"))
    if entry is not None and entry.status == "complete":
        unit = "games" if entry.metric == ARENA_HARD else "judgments"
        cards.append(card(f"failed {unit}", entry.n_failed, f"of {entry.n_failed + entry.n_judged}"))
        if entry.n_failed_answers:
            cards.append(card("failed answers", entry.n_failed_answers, "not judged (transport failures)"))
        if entry.cost_usd is not None:
            cards.append(card("total cost $", f"{entry.cost_usd:.4f}", f"{entry.tokens or 0:,} tokens, "
                              f"{entry.model_calls or 0} model calls"
                              + (f"; {estimate_text(entry)} before the run" if entry.estimated_usd is not None else "")))
    repeats = metrics.get("repeats")
    if repeats:  # --repeats: what moves between runs, beside the CI over prompts
        cards.append(card("repeats", repeats_text(repeats, 2), " · ".join(v for _, v in repeats_rows(repeats)[1:3])))
    acquisition = metrics.get("acquisition") or {}
    if acquisition:
        cards.append(card("acquisition $", f"{acquisition.get('acquisition_usd', 0.0):.4f}",
                          f"{sum(acquisition.get('api_calls', {}).values())} API calls, "
                          f"{number_text(acquisition.get('items_per_task'))} items/task"))
    return tag("div", join(cards), class_="cards")


def ledger_block(ledger: dict[str, Any] | None) -> Markup:
    if not ledger:
        return tag("p", "no ledger.json yet (the run has not finished a session)", class_="muted")
    headers = ["role", "model", "api", "calls", "cached", "failed", "prompt tok", "completion tok", "seconds", "$"]
    rows = [[e.get("role"), e.get("model"), e.get("api"), e.get("calls", 0), e.get("cache_hits", 0),
             e.get("failures", 0), f"{e.get('prompt_tokens', 0):,}", f"{e.get('completion_tokens', 0):,}",
             f"{e.get('seconds', 0.0):.1f}", f"{e.get('cost_usd', 0.0):.4f}"] for e in ledger.get("entries", [])]
    total = ledger.get("total", {})
    rows.append(["total", "", "", total.get("calls", 0), total.get("cache_hits", 0), total.get("failures", 0),
                 f"{total.get('prompt_tokens', 0):,}", f"{total.get('completion_tokens', 0):,}",
                 f"{total.get('seconds', 0.0):.1f}", f"{total.get('cost_usd', 0.0):.4f}"])
    return join([tag("p", ledger_caption(ledger), class_="muted"), table(headers, rows, numeric=range(3, 10))])


def ledger_caption(ledger: dict[str, Any]) -> str:
    """Which figure the table is, and what was spent, lost in flight or retried beside it."""
    parts = [ledger.get("label") or "the run costs"]
    spent = (ledger.get("spent") or {}).get("total")
    if spent is not None:
        parts.append(f"spent over all sessions ${spent.get('cost_usd', 0.0):.4f}")
    unconfirmed = ledger.get("unconfirmed") or {}
    if unconfirmed.get("calls"):
        parts.append(f"{unconfirmed['calls']} unconfirmed calls in flight at a kill "
                     f"(about ${unconfirmed.get('usd_estimate', 0.0):.4f})")
    retries = Counter()
    for row in ledger.get("retries", []):
        retries[row.get("cause", "?")] += row.get("count", 0)
    if retries:
        parts.append("retries " + ", ".join(f"{cause} {n}" for cause, n in sorted(retries.items())))
    return "; ".join(parts)


def environment_block(run: RunData) -> Markup:
    env = json.loads((run.path / "environment.json").read_text()) if (run.path / "environment.json").is_file() else {}
    if not env:
        return tag("p", "no environment.json", class_="muted")
    git = env.get("git") or {}
    rows = [["python", env.get("python")], ["platform", env.get("platform")], ["cpus", env.get("cpus")],
            ["gpu", env.get("gpu")], ["git commit", f"{git.get('commit')}{' (dirty)' if git.get('dirty') else ''}"],
            ["command", " ".join(env.get("argv", []))]]
    rows += [[name, version] for name, version in (env.get("packages") or {}).items()]
    return table(["", "version / value"], rows)


def summary_block(run: RunData, entry: Entry | None) -> Markup:
    parts = []
    if not run.complete:
        parts.append(tag("p", badge("incomplete", "error") + esc(
            " no metrics.json: the run stopped before it finished; rerun the same command to resume. "
            "What it logged so far is below."), class_="muted"))
    parts.append(train_cards(run) if run.kind == "train" else metric_cards(run, entry))
    parts.append(details("configuration", table(["setting", "value"], sorted(run.config.items()))))
    parts.append(details("environment", environment_block(run)))
    parts.append(details("cost ledger", ledger_block(run.ledger), open_=True))
    if run.metrics:
        parts.append(details("metrics.json", text_block(run.metrics)))
    return join(parts)


# -- plots ----------------------------------------------------------------------------------------

def api_counts(acquisitions: Iterable[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    """Executed calls per API and dropped calls per reason kind, from acquisitions.jsonl records."""
    executed: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for record in acquisitions:
        executed.update(outcome["call"]["api"] for outcome in record.get("outcomes", []))
        for drop in (record.get("trajectory") or {}).get("dropped", []):
            dropped[str(drop.get("reason", "?")).split(":", 1)[0]] += 1
    return executed, dropped


def run_plots(run: RunData, suffix: str) -> Markup:
    figures = []
    if run.kind == "train":
        rows = sorted(run.log("iterations"), key=lambda r: r["iteration"])
        if rows:
            figures.append(figure("plot-training", iteration_curve_svg(rows),
                                  "Mean reward and acquisition cost per training iteration.", suffix))
            figures.append(figure("plot-iteration-api-share", plots.iteration_api_share_svg(rows),
                                  "API-call share of the sampled trajectories per iteration.", suffix))
    executed, dropped = api_counts(run.indexed("acquisitions").values())
    if executed or dropped:
        figures.append(figure("plot-api-mix", plots.api_mix_svg(dict(executed), dict(dropped)),
                              "API calls executed per API, and calls dropped (by reason).", suffix))
    metrics = run.metrics or {}
    categories = (metrics.get("pairwise") or {}).get("categories") or {}
    if categories:
        values = {name: (block["win_rate"], block["n"]) for name, block in categories.items()}
        figures.append(figure("plot-categories", plots.category_bars_svg(
            values, ylabel="win rate %", reference=50.0, limits=(0, 100), title="win rate per category"),
            f"Win rate per category against the {metrics.get('reference', 'reference')} "
            "(dashed: par with it).", suffix))
    single_categories = (metrics.get("single") or {}).get("categories") or {}
    if single_categories:
        values = {name: (block["score"], block["n"]) for name, block in single_categories.items()
                  if block.get("score") is not None}
        figures.append(figure("plot-categories", plots.category_bars_svg(
            values, ylabel="MT-Bench score (1–10)", limits=(0, 10), title="MT-Bench score per category"),
            "MT-Bench score per category.", suffix))
    if not figures:
        return tag("p", "nothing to plot yet", class_="muted")
    return tag("div", join(figures), class_="plots")


def overview_plots(entries: Sequence[Entry]) -> Markup:
    """Score vs cost per metric, and scaling curves for settings the runs differ in."""
    figures = []
    complete = [e for e in entries if e.status == "complete" and e.score is not None]
    for metric in dict.fromkeys(e.metric for e in complete):
        group = [e for e in complete if e.metric == metric]
        if len(group) < 2:  # one run is no comparison
            continue
        points = [{"label": e.name if len(group) <= 8 else e.strategy, "group": f"{e.strategy}/{e.learner}",
                   "cost": e.acquisition_usd if e.acquisition_usd is not None else (e.cost_usd or 0.0),
                   "score": e.score, "lower": e.ci_lower, "upper": e.ci_upper} for e in group]
        plot_id = "plot-score-cost" if metric == WIN_RATE else f"plot-score-cost-{_slug(metric)}"
        figures.append(figure(plot_id, plots.score_cost_svg(points, ylabel=str(metric)),
                              f"{metric} (95% CI) against data-acquisition cost, per strategy."))
        for key in SCALING_KEYS:
            values = {e.config.get(key) for e in group}
            if len({v for v in values if isinstance(v, int | float)}) < 2:
                continue
            series: dict[str, list] = {}
            for e in group:
                x = e.config.get(key)
                if isinstance(x, int | float):
                    series.setdefault(f"{e.strategy}/{e.learner} · {e.suite}", []).append(
                        (x, e.score, e.ci_lower, e.ci_upper))
            figures.append(figure(f"plot-scaling-{key}", plots.scaling_curves_svg(
                series, xlabel=key, ylabel=str(metric)), f"{metric} against {key} (a sweep's scaling curve)."))
    return tag("div", join(figures), class_="plots") if figures else Markup("")


def _slug(text: Any) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")


def unique_slugs(runs: Sequence[RunData]) -> dict[Path, str]:
    """Element-id suffix per run folder: its name, numbered where two folders share one."""
    out: dict[Path, str] = {}
    for run in runs:
        slug = base = _slug(run.name) or "run"
        number = 2
        while slug in out.values():
            slug, number = f"{base}-{number}", number + 1
        out[run.path] = slug
    return out



def iterations_table(run: RunData) -> Markup:
    rows = sorted(run.log("iterations"), key=lambda r: r["iteration"])
    if not rows:
        return Markup("")
    keys = ("mean_reward", "chosen_mean_reward", "mean_cost_usd", "chosen_mean_cost_usd", "parse_failure_rate",
            "tasks_with_chosen", "pairs", "evaluations", "evaluations_exhaustive")
    body = [[r["iteration"], *(number_text(r["stats"].get(k), 3) for k in keys),
             tag("code", json.dumps(r.get("training", {}), ensure_ascii=False)), r.get("optimizer_out")]
            for r in rows]
    headers = ["iteration", *(k.replace("_", " ") for k in keys), "training", "optimizer after"]
    return table(headers, body, numeric=range(0, len(keys) + 1))


def train_cards(run: RunData) -> Markup:
    rows = sorted(run.log("iterations"), key=lambda r: r["iteration"])
    cards = [card("iterations", f"{len(rows)} / {run.config.get('iterations', '?')}",
                  f"K = {run.config.get('samples', '?')} samples per task, tau = {run.config.get('tau', '?')}")]
    if rows:
        last = rows[-1]["stats"]
        cards.append(card("mean reward (last)", number_text(last.get("mean_reward"), 3),
                          f"first {number_text(rows[0]['stats'].get('mean_reward'), 3)}"))
        cards.append(card("chosen reward (last)", number_text(last.get("chosen_mean_reward"), 3),
                          f"{last.get('pairs', 0)} DPO pairs"))
        cards.append(card("mean cost $ (last)", number_text(last.get("mean_cost_usd"), 4), "per sampled trajectory"))
    total = (run.ledger or {}).get("total", {})
    if total:
        cards.append(card("total cost $", f"{total.get('cost_usd', 0.0):.4f}", f"{total.get('calls', 0)} calls"))
    return tag("div", join(cards), class_="cards")


# -- pages --------------------------------------------------------------------------------------------

def run_section(run: RunData, entry: Entry | None, suffix: str, max_tasks: int | None) -> Markup:
    title = f"{run.kind}: {run.strategy}/{run.learner} on {run.suite} ({run.policy})" if run.kind != "train" \
        else f"train: optimizer on {run.suite}"
    parts = [tag("h3", "summary"), summary_block(run, entry)]
    if run.kind == "train":
        parts.append(tag("h3", "iterations") + iterations_table(run))
    parts.append(tag("h3", "plots") + run_plots(run, suffix))
    parts.append(tag("h3", "browser"))
    parts.append(train_browser(run, max_tasks) if run.kind == "train" else task_browser(run, max_tasks))
    return Markup(tag("h2", f"{title} — {run.name}", id=f"run-{suffix}" if suffix else "run") + join(parts))


def _entries_by_path(runs: Sequence[RunData]) -> tuple[Leaderboard | None, dict[str, Entry]]:
    if not any(r.kind != "train" for r in runs):
        return None, {}
    board = build_leaderboard(runs)
    return board, {e.path: e for e in board.entries}


def build_report(path: str | Path, *, max_tasks: int | None = DEFAULT_MAX_TASKS) -> str:
    """The HTML of a report on one run folder, or on every run folder under a results folder."""
    root = Path(path)
    runs = [RunData.load(p) for p in find_run_dirs([root])]
    board, entries = _entries_by_path(runs)
    generated = time.strftime("%Y-%m-%d %H:%M")
    if len(runs) == 1:
        [run] = runs
        body = run_section(run, entries.get(str(run.path)), "", max_tasks)
        return page(f"ads-bench report: {run.name}", f"ads-bench report — {run.name}",
                    f"{run.path} · generated {generated}", body)
    rank = {entry.path: index for index, entry in enumerate(board.entries)} if board else {}
    runs.sort(key=lambda run: (rank.get(str(run.path), len(rank)), run.name))  # leaderboard order, then train
    suffixes = unique_slugs(runs)
    toc = tag("nav", join(tag("a", run.name, href=f"#run-{suffixes[run.path]}") for run in runs), class_="toc")
    parts = [toc]
    if board is not None:
        parts.append(tag("h2", "Leaderboard", id="leaderboard") + leaderboard_table(board))
        parts.append(tag("h2", "Comparisons") + overview_plots(board.entries))
    for index, run in enumerate(runs):
        section = run_section(run, entries.get(str(run.path)), suffixes[run.path], max_tasks)
        parts.append(details(f"{run.name} ({run.kind}, {'complete' if run.complete else 'incomplete'})",
                             section, class_="run", open_=index == 0))
    return page(f"ads-bench report: {root.name}", f"ads-bench report — {root.name}",
                f"{len(runs)} runs under {root} · generated {generated}", join(parts))


def default_report_path(path: str | Path) -> Path:
    return Path(path) / "report.html"


def write_report(path: str | Path, out: str | Path | None = None, *,
                 max_tasks: int | None = DEFAULT_MAX_TASKS) -> Path:
    if not Path(path).is_dir():
        raise UserError(f"{path} is not a folder: pass a run folder or a results folder")
    target = Path(out) if out else default_report_path(path)
    if target.is_dir():
        raise UserError(f"--out {target} is a folder: name a file, e.g. {target / 'report.html'}")
    write_text_atomic(target, build_report(path, max_tasks=max_tasks))
    return target

