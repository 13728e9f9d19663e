"""Plots as self-contained SVG (matplotlib, no display needed), for run folders and reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ads_bench.utils.figures import new_figure, svg_of

# -- report plots: text stays text (svg.fonttype none), so labels are searchable and small ----------

API_COLOURS = {
    "information_retrieval": "tab:blue",
    "demonstration_generation": "tab:orange",
    "question_answering": "tab:green",
}


def _plain(text: Any) -> str:
    """A label as matplotlib should show it: literally (a ``$`` pair would start mathtext)."""
    return str(text).replace("$", r"\$")


def text_svg_of(figure: Any) -> str:
    """:func:`svg_of` with text kept as SVG ``<text>`` (escaped by matplotlib) and stable ids."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ads-bench"}):
        return svg_of(figure)


def api_mix_svg(calls: dict[str, int], dropped: dict[str, int] | None = None) -> str:
    """Executed API calls per API and, in grey, calls dropped (by reason: over budget, unknown API ...)."""
    dropped = dropped or {}
    labels = [_plain(api) for api in calls] + [_plain(f"dropped: {reason}") for reason in dropped]
    values = list(calls.values()) + list(dropped.values())
    colours = [API_COLOURS.get(api, "tab:purple") for api in calls] + ["0.65"] * len(dropped)
    _, figure, axis = new_figure(6.0, max(2.2, 0.9 + 0.45 * len(values)))
    positions = list(range(len(values)))
    axis.barh(positions, values, color=colours)
    axis.set_yticks(positions, labels)
    axis.invert_yaxis()
    total = sum(calls.values())
    for position, value in zip(positions, values, strict=True):
        share = f" ({100 * value / total:.0f}%)" if total and position < len(calls) else ""
        axis.annotate(f"{value}{share}", (value, position), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    axis.set_xlabel("API calls")
    axis.set_title(f"API-call distribution ({total} executed, {sum(dropped.values())} dropped)")
    axis.margins(x=0.15)
    return text_svg_of(figure)


def category_bars_svg(
    categories: dict[str, tuple[float, int]], *, ylabel: str, reference: float | None = None,
    limits: tuple[float, float] | None = None, title: str = "per category",
) -> str:
    """One bar per category (score, n judged); ``reference`` draws a line (50% = par with the reference)."""
    names = list(categories)
    _, figure, axis = new_figure(max(4.0, 0.9 * len(names) + 2.0), 3.4)
    scores = [categories[name][0] for name in names]
    axis.bar(range(len(names)), scores, color="tab:blue")
    axis.set_xticks(range(len(names)), [_plain(name) for name in names], rotation=30, ha="right", fontsize=8)
    for index, name in enumerate(names):
        axis.annotate(f"n={categories[name][1]}", (index, scores[index]), xytext=(0, 2),
                      textcoords="offset points", ha="center", fontsize=7)
    if reference is not None:
        axis.axhline(reference, color="0.4", linestyle="--", linewidth=1)
    if limits is not None:
        axis.set_ylim(*limits)
    axis.set_ylabel(_plain(ylabel))
    axis.set_title(_plain(title))
    return text_svg_of(figure)


def score_cost_svg(points: Sequence[dict[str, Any]], *, ylabel: str, xlabel: str = "data-acquisition cost ($)") -> str:
    """Score (with its CI as an error bar) against cost, one colour per strategy.

    ``points``: dicts with ``label`` (annotated), ``group`` (colour/legend), ``cost``, ``score``,
    and optional ``lower``/``upper``.
    """
    import matplotlib

    _, figure, axis = new_figure(6.4, 4.0)
    groups = list(dict.fromkeys(p["group"] for p in points))
    palette = matplotlib.colormaps["tab10"]
    for index, group in enumerate(groups):
        members = [p for p in points if p["group"] == group]
        lower = [p["score"] - p["lower"] if p.get("lower") is not None else 0.0 for p in members]
        upper = [p["upper"] - p["score"] if p.get("upper") is not None else 0.0 for p in members]
        axis.errorbar([p["cost"] for p in members], [p["score"] for p in members], yerr=[lower, upper],
                      fmt="o", capsize=3, color=palette(index % 10), label=_plain(group))
        for point in members:
            axis.annotate(_plain(point["label"]), (point["cost"], point["score"]), xytext=(4, 4),
                          textcoords="offset points", fontsize=7)
    axis.set_xlabel(_plain(xlabel))
    axis.set_ylabel(_plain(ylabel))
    axis.set_title("score vs cost")
    axis.legend(fontsize=8, loc="best")
    axis.margins(0.12)
    return text_svg_of(figure)


def scaling_curves_svg(series: dict[str, Sequence[tuple[float, float, float | None, float | None]]], *,
                       xlabel: str, ylabel: str) -> str:
    """Score against a swept quantity (observed instructions, acquired items ...), one line per
    series; each point is (x, score, CI lower, CI upper)."""
    _, figure, axis = new_figure(6.4, 3.8)
    for name, points in series.items():
        ordered = sorted(points)
        xs = [p[0] for p in ordered]
        ys = [p[1] for p in ordered]
        lower = [p[1] - p[2] if p[2] is not None else 0.0 for p in ordered]
        upper = [p[3] - p[1] if p[3] is not None else 0.0 for p in ordered]
        axis.errorbar(xs, ys, yerr=[lower, upper], marker="o", capsize=3, label=_plain(name))
    axis.set_xlabel(_plain(xlabel))
    axis.set_ylabel(_plain(ylabel))
    axis.set_title(_plain(f"scaling: score vs {xlabel}"))
    axis.legend(fontsize=8, loc="best")
    return text_svg_of(figure)


def iteration_api_share_svg(rows: Sequence[dict[str, Any]]) -> str:
    """Share of each API among the sampled trajectories' calls per training iteration (stacked),
    with the optimizer's parse-failure rate as a line."""
    _, figure, axis = new_figure(6.0, 3.2)
    iterations = [row["iteration"] for row in rows]
    apis = sorted({api for row in rows for api in row["stats"].get("api_call_share", {})})
    bottom = [0.0] * len(rows)
    for api in apis:
        shares = [row["stats"].get("api_call_share", {}).get(api, 0.0) for row in rows]
        axis.bar(iterations, shares, bottom=bottom, color=API_COLOURS.get(api, "tab:purple"), label=_plain(api))
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    failures = [row["stats"].get("parse_failure_rate") for row in rows]
    axis.plot(iterations, [f if f is not None else float("nan") for f in failures], color="black", marker="x",
              label="parse-failure rate")
    axis.set_xticks(iterations)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("iteration")
    axis.set_ylabel("share of calls")
    axis.set_title("API-call share per training iteration")
    axis.legend(fontsize=7, loc="best")
    return text_svg_of(figure)
