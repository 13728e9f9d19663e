"""``ads-bench suites build-wikifacts``: build the verifiable fact suites (wikifacts, wikifacts-train)."""

from __future__ import annotations

from pathlib import Path

import click

from ads_bench.cli.common import console


@click.command("build-wikifacts")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Deals articles to observed/held-out sides and tasks to the two suites.")
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for wikifacts.yaml, wikifacts-train.yaml and data/wikifacts/ (default: tasks/).")
@click.option("--min-side", default=4, show_default=True, type=click.IntRange(1, 50),
              help="Questions per task on each side (observed, held out) at least.")
@click.option("--siblings/--no-siblings", default=True, show_default=True,
              help="Hold back one fact of each observed article as a held-out question (other_fact); "
                   "--no-siblings: every held-out question is about an article never observed.")
def build_wikifacts_cmd(seed: int, out: Path | None, min_side: int, siblings: bool) -> None:
    """Build year questions from the shipped Wikipedia summaries, grouped by topic, offline."""
    from ads_bench import paths
    from ads_bench.suites.wikifacts_build import BuildSettings, write_suites

    folder = out or paths.tasks_dir()
    report = write_suites(folder, BuildSettings(seed=seed, min_side=min_side, siblings=siblings))
    tasks, held = report["tasks"], report["held_out_questions"]
    console.print(f"{report['facts']} questions from {report['articles_with_facts']} articles "
                  f"({report['seconds']} s)")
    for name in tasks:
        console.print(f"  {folder / (name + '.yaml')}: {tasks[name]} tasks, {held[name]} held-out questions")
