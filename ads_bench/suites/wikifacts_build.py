"""``ads-bench suites build-wikifacts``: the verifiable fact suites, built offline from the shipped
Wikipedia summaries (CC BY-SA 4.0, ``corpora/wiki_vital_level4/``).

Recipe (deterministic per seed; only the seed-dependent steps use it):

1. facts: every checkable question of every article (:mod:`ads_bench.suites.wikifacts_facts`);
2. topics: the articles with facts, ordered by the leaf order of a Ward dendrogram over their
   shipped MiniLM embeddings (``corpora/embeddings/``), so neighbours are articles of one topic;
3. tasks: that order cut into runs of consecutive articles, each closed as soon as its articles,
   dealt at random (seeded) to an observed and a held-out side, give each side >= ``min_side``
   questions (runs reaching ``max_articles`` first are dropped). Every held-out question differs
   from every observed one, in one of two ways (``metadata.truth[].relation``):

   - ``new_article``: about a held-out article, one the observed questions never name; only a
     search that generalises from the observed articles to their topic finds its source;
   - ``other_fact``: another fact (a year of death where the observed question asked the year of
     birth) of an observed article, held back from the observed side (``siblings``); a search
     for the observed questions finds its source, but copying the observed answers does not
     answer it.

   The held-out list alternates the two, so any prefix (``--max-held-out``) holds both. The two
   kinds grade a run between its bounds: ``none`` < search for what was observed (``rag``) <
   search that reaches the topic < ``oracle``. ``--no-siblings`` builds the stricter design where
   every held-out question is about a new article;
4. splits: runs of ``block`` consecutive tasks (neighbouring topics) are shuffled with the seed
   and dealt whole to ``wikifacts`` (``eval_share``) and ``wikifacts-train``, so the two suites
   share no article and no topic block.

Each held-out question keeps its truth in the task's metadata (``truth``, aligned with
``held_out``): answer, answer type, fact kind, source document id and the evidence text.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ads_bench.acquisition.corpus import Corpus, load_corpus
from ads_bench.errors import UserError
from ads_bench.suites._split import stable_seed
from ads_bench.suites._task import write_bytes_gzip_atomic
from ads_bench.suites.wikifacts_facts import Fact, corpus_facts
from ads_bench.utils.atomic import write_text_atomic

EVAL_SUITE, TRAIN_SUITE = "wikifacts", "wikifacts-train"
DEFAULT_JUDGE = "program:numeric"
DEFAULT_RETRIEVAL_K = 1
LICENCE = ("questions and answers derived from English Wikipedia lead summaries "
           "(© Wikipedia contributors, CC BY-SA 4.0; corpora/wiki_vital_level4/ATTRIBUTION.md)")


@dataclass(frozen=True)
class BuildSettings:
    seed: int = 0
    min_side: int = 4  # questions per side (observed, held out) of a task
    max_articles: int = 8
    block: int = 4  # neighbouring tasks kept in one suite
    eval_share: float = 0.6
    siblings: bool = True  # hold back one fact of each observed article that has two or more


def topic_order(corpus: Corpus, doc_ids: list[str]) -> list[str]:
    """``doc_ids`` in the leaf order of a Ward dendrogram over their shipped embeddings."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    embeddings = _shipped_embeddings(corpus)
    rows = np.asarray([corpus._positions[d] for d in doc_ids])
    vectors = embeddings[rows].astype(np.float64)
    return [doc_ids[i] for i in leaves_list(linkage(vectors, method="ward"))]


def _shipped_embeddings(corpus: Corpus) -> np.ndarray:
    from ads_bench.acquisition.retrieval import embedding_model_id, shipped_embeddings_path

    path = shipped_embeddings_path(corpus, embedding_model_id(None))
    if not path.is_file():
        raise UserError(f"the shipped corpus embeddings {path} are missing: restore corpora/embeddings/ "
                        "from a source checkout of ads-bench")
    return np.load(path)


def nearest_pairs(corpus: Corpus, doc_ids: list[str]) -> list[tuple[str, str]]:
    """Articles matched two by two, most similar first (greedy on the cosine of their shipped
    embeddings): each article's partner is one of its nearest neighbours among the articles with
    facts. An odd one out is left unmatched."""
    embeddings = _shipped_embeddings(corpus)
    vectors = embeddings[[corpus._positions[d] for d in doc_ids]].astype(np.float32)
    similarity = vectors @ vectors.T
    upper = np.triu_indices(len(doc_ids), k=1)
    # stable sort on (-similarity, i, j): ties broken by position, never by platform
    ranked = np.lexsort((upper[1], upper[0], -similarity[upper]))
    used: set[int] = set()
    pairs = []
    for index in ranked:
        i, j = int(upper[0][index]), int(upper[1][index])
        if i not in used and j not in used:
            used.update((i, j))
            pairs.append((doc_ids[i], doc_ids[j]))
    return pairs


def sibling_index(doc_id: str, facts: list[Fact], settings: BuildSettings) -> int | None:
    """Which of a split article's facts is held back as an ``other_fact`` question (seeded, so
    birth and death years both appear), or None when it has only one fact (it stays observed)."""
    if len(facts) < 2:
        return None
    return stable_seed("wikifacts-sibling", settings.seed, doc_id) % len(facts)


@dataclass
class Sides:
    """A task in the making: observed articles (those in ``split`` hold one fact back for the
    held-out side) and held-out articles."""

    observed: list[str]
    held_out: list[str]
    split: set[str]


def _split_facts(sides: Sides, facts: dict[str, list[Fact]], settings: BuildSettings
                 ) -> tuple[list[list[Fact]], list[Fact], list[list[Fact]]]:
    """(observed facts per observed article, the held-back facts, facts per held-out article)."""
    observed, siblings = [], []
    for doc_id in sides.observed:
        held_back = sibling_index(doc_id, facts[doc_id], settings) if doc_id in sides.split else None
        observed.append([f for i, f in enumerate(facts[doc_id]) if i != held_back])
        if held_back is not None:
            siblings.append(facts[doc_id][held_back])
    return observed, siblings, [facts[d] for d in sides.held_out]


def _tasks_of(pairs: list[tuple[str, str]], facts: dict[str, list[Fact]], settings: BuildSettings,
              rng: random.Random) -> tuple[list[Sides], int]:
    """Consecutive pairs (in topic order) gathered into tasks; a task closes once both sides hold
    >= ``min_side`` questions, and one still short after ``max_articles`` articles is dropped.

    A task's pairs alternate two kinds (with ``siblings``; otherwise every pair is the first):
    of a *new-article* pair one article (a seeded coin) is observed and its neighbour held out;
    both articles of a *split* pair are observed, each holding one fact back for the held-out
    side. Two pairs of two-fact articles thus make a task of 4 observed and 4 held-out questions,
    half about an unobserved article and half other facts of observed ones."""
    dealt, dropped = [], 0
    sides = Sides([], [], set())
    for pair in pairs:
        pairs_so_far = (len(sides.observed) + len(sides.held_out)) // 2
        if settings.siblings and pairs_so_far % 2 == 1:
            sides.observed += pair
            sides.split.update(pair)
        else:
            observed, held = pair if rng.random() < 0.5 else pair[::-1]
            sides.observed.append(observed)
            sides.held_out.append(held)
        observed_facts, siblings, held_facts = _split_facts(sides, facts, settings)
        counts = (sum(map(len, observed_facts)), len(siblings) + sum(map(len, held_facts)))
        if min(counts) >= settings.min_side:
            dealt.append(sides)
            sides = Sides([], [], set())
        elif len(sides.observed) + len(sides.held_out) >= settings.max_articles:
            dropped += 1
            sides = Sides([], [], set())
    return dealt, dropped


def _by_depth(per_article: list[list[Fact]]) -> list[Fact]:
    """Every article's first fact, then every second one ...: a strategy that acts on the first
    few questions (rag: one call each, --max-calls) meets every article."""
    depth = max((len(fs) for fs in per_article), default=0)
    return [fs[i] for i in range(depth) for fs in per_article if i < len(fs)]


def _alternate(first: list, second: list) -> list:
    out = []
    for i in range(max(len(first), len(second))):
        out += first[i:i + 1] + second[i:i + 1]
    return out


def _task(index: int, sides: Sides, facts: dict[str, list[Fact]], corpus: Corpus,
          settings: BuildSettings) -> dict[str, Any]:
    observed_by_article, siblings, held_by_article = _split_facts(sides, facts, settings)
    observed_facts = _by_depth(observed_by_article)
    relation = {id(f): "other_fact" for f in siblings}
    held_facts = _alternate(_by_depth(held_by_article), siblings)
    topics = Counter(str(corpus.by_id(d).metadata.get("topic", "")) for d in sides.observed + sides.held_out)

    def truth(fact: Fact, held_out: bool) -> dict[str, str]:
        row = {"answer": fact.answer, "answer_type": fact.answer_type, "kind": fact.kind,
               "doc_id": fact.doc_id, "evidence": fact.evidence}
        if held_out:
            row["relation"] = relation.get(id(fact), "new_article")
        return row

    return {
        "id": f"wf{index:04d}",
        "category": topics.most_common(1)[0][0],
        "observed": [f.question for f in observed_facts],
        "held_out": [f.question for f in held_facts],
        "metadata": {
            "truth": [truth(f, True) for f in held_facts],
            "observed_truth": [truth(f, False) for f in observed_facts],
            "observed_articles": sides.observed,
            "held_out_articles": sides.held_out,
        },
    }


def build_tasks(corpus: Corpus, settings: BuildSettings) -> tuple[list[dict], list[dict], dict[str, Any]]:
    """(evaluation tasks, training tasks, build report) as task rows."""
    facts = corpus_facts(corpus)
    order = {doc_id: rank for rank, doc_id in enumerate(topic_order(corpus, sorted(facts)))}
    pairs = sorted(nearest_pairs(corpus, sorted(facts)), key=lambda pair: min(order[d] for d in pair))
    rng = random.Random(stable_seed("wikifacts", settings.seed))
    dealt, dropped = _tasks_of(pairs, facts, settings, rng)
    tasks = [_task(index, sides, facts, corpus, settings) for index, sides in enumerate(dealt)]
    blocks = [tasks[i:i + settings.block] for i in range(0, len(tasks), settings.block)]
    rng.shuffle(blocks)
    n_eval = round(settings.eval_share * len(blocks))
    evaluation = [t for block in blocks[:n_eval] for t in block]
    training = [t for block in blocks[n_eval:] for t in block]
    report = {
        "seed": settings.seed,
        "settings": settings.__dict__,
        "corpus": {"name": corpus.name, "fingerprint": corpus.fingerprint, "documents": len(corpus)},
        "articles_with_facts": len(facts),
        "facts": sum(len(v) for v in facts.values()),
        "fact_kinds": dict(Counter(f.kind for v in facts.values() for f in v).most_common()),
        "tasks": {EVAL_SUITE: len(evaluation), TRAIN_SUITE: len(training)},
        "held_out_questions": {EVAL_SUITE: sum(len(t["held_out"]) for t in evaluation),
                               TRAIN_SUITE: sum(len(t["held_out"]) for t in training)},
        "held_out_relations": {
            name: dict(Counter(t["relation"] for task in rows for t in task["metadata"]["truth"]))
            for name, rows in ((EVAL_SUITE, evaluation), (TRAIN_SUITE, training))},
        "runs_dropped_unbalanced": dropped,
    }
    return evaluation, training, report


def _yaml(name: str, data: str, settings: BuildSettings, command: str) -> str:
    role = "evaluation" if name == EVAL_SUITE else "optimizer training (disjoint from wikifacts)"
    return f"""# Verifiable fact questions ({role}), built offline from the shipped Wikipedia summaries.
# A task is one topic. A held-out question is about an article the observed questions never name
# (relation new_article), or asks another fact of an observed article (relation other_fact).
# Each held-out question's answer, answer type, source article and relation are in metadata.truth.
# Built with: {command}
name: {name}
kind: wikifacts
description: year questions (birth, death, start, end, publication) about Wikipedia vital articles, checked by program
source: {command} (corpus wiki-vital-level4)
license: CC BY-SA 4.0 (derived from English Wikipedia lead summaries; see corpora/wiki_vital_level4/ATTRIBUTION.md)
data: {data}
layout: presplit
fields:
  id: id
  observed: observed
  held_out: held_out
  category: category
  metadata: metadata
judge:
  mode: pairwise
metadata:
  default_judge: {DEFAULT_JUDGE}
  # each question names one article: one document per query (a second is a distractor)
  default_retrieval_k: {DEFAULT_RETRIEVAL_K}
build:
  command: {command}
  seed: {settings.seed}
  report: data/wikifacts/build_report.json
"""


def write_suites(out: Path, settings: BuildSettings, corpus: Corpus | None = None) -> dict[str, Any]:
    """Write ``OUT/wikifacts.yaml``, ``OUT/wikifacts-train.yaml`` and their data under
    ``OUT/data/wikifacts/``; returns the build report."""
    started = time.perf_counter()
    corpus = corpus or load_corpus()
    evaluation, training, report = build_tasks(corpus, settings)
    if not evaluation or not training:
        raise UserError("the build made no tasks for one suite: lower --min-side")
    command = f"ads-bench suites build-wikifacts --seed {settings.seed}" + ("" if settings.siblings else " --no-siblings")
    data_dir = Path(out) / "data" / "wikifacts"
    for name, rows in ((EVAL_SUITE, evaluation), (TRAIN_SUITE, training)):
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        write_bytes_gzip_atomic(data_dir / f"{name}.jsonl.gz", text.encode("utf-8"))
        write_text_atomic(Path(out) / f"{name}.yaml",
                          _yaml(name, f"data/wikifacts/{name}.jsonl.gz", settings, command))
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_text_atomic(data_dir / "build_report.json", json.dumps(
        {k: v for k, v in report.items() if k != "seconds"}, indent=2) + "\n")
    return report
