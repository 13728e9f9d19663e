"""The training curve ``ads-bench train`` writes beside its adapters (``curve.svg``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ads_bench.utils.atomic import write_text_atomic
from ads_bench.utils.figures import new_figure, svg_of


def iteration_curve_svg(rows: Sequence[dict[str, Any]]) -> str:
    """Mean reward (left axis) and mean acquisition cost (right axis) per training iteration."""
    _, figure, axis = new_figure()
    iterations = [row["iteration"] for row in rows]
    reward = [row["stats"].get("mean_reward") for row in rows]
    cost = [row["stats"].get("mean_cost_usd") for row in rows]
    chosen = [row["stats"].get("chosen_mean_reward") for row in rows]
    axis.plot(iterations, reward, marker="o", color="tab:blue", label="mean reward")
    axis.plot(iterations, chosen, marker="^", linestyle="--", color="tab:green", label="chosen reward")
    axis.set_xlabel("iteration")
    axis.set_ylabel("reward (win rate vs un-updated policy)")
    axis.set_xticks(iterations)
    twin = axis.twinx()
    twin.plot(iterations, cost, marker="s", color="tab:red", label="mean cost ($)")
    twin.set_ylabel("acquisition cost per trajectory ($)")
    lines = axis.get_lines() + twin.get_lines()
    axis.legend(lines, [line.get_label() for line in lines], loc="best", fontsize=8)
    axis.set_title("ADS optimizer training")
    return svg_of(figure)


def iteration_curve(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    write_text_atomic(path, iteration_curve_svg(rows))
    return path
