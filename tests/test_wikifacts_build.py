"""The wikifacts builder: deterministic per seed, disjoint splits, every answer in its source."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ads_bench.acquisition.corpus import Document, load_corpus
from ads_bench.suites import load_suite
from ads_bench.suites.wikifacts_build import BuildSettings, write_suites
from ads_bench.suites.wikifacts_facts import facts_of, subject


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus):
    out = tmp_path_factory.mktemp("wf")
    report = write_suites(out, BuildSettings(seed=7), corpus)
    return out, report


def _data(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "data" / "wikifacts").iterdir())}


def test_same_seed_same_bytes_and_another_seed_another_split(tmp_path, corpus, built):
    folder, _ = built
    write_suites(tmp_path / "again", BuildSettings(seed=7), corpus)
    write_suites(tmp_path / "other", BuildSettings(seed=8), corpus)
    assert _data(tmp_path / "again") == _data(folder)
    assert (tmp_path / "again" / "wikifacts.yaml").read_text() == (folder / "wikifacts.yaml").read_text()
    assert _data(tmp_path / "other")["wikifacts.jsonl.gz"] != _data(folder)["wikifacts.jsonl.gz"]


def test_the_first_observed_questions_cover_every_observed_article(built):
    folder, _ = built
    for task in load_suite(str(folder / "wikifacts.yaml")):
        meta = task.metadata
        first_questions = task.observed[: len(meta["observed_articles"])]  # interleaved
        assert all(subject(article) in q for article, q in zip(meta["observed_articles"], first_questions, strict=True))


def test_suites_load_with_enough_tasks_each_split_by_article_or_by_fact(built):
    folder, report = built
    evaluation = load_suite(str(folder / "wikifacts.yaml"))
    training = load_suite(str(folder / "wikifacts-train.yaml"))
    assert len(evaluation) + len(training) >= 300
    assert report["tasks"] == {"wikifacts": len(evaluation), "wikifacts-train": len(training)}
    for task in (*evaluation, *training):
        assert len(task.observed) >= 4 and len(task.held_out) >= 4
        meta = task.metadata
        assert not set(meta["observed_articles"]) & set(meta["held_out_articles"])
        assert not set(task.observed) & set(task.held_out)
        assert [t["doc_id"] for t in meta["truth"]] and len(meta["truth"]) == len(task.held_out)
        for truth in meta["truth"]:
            # a new-article question names an article no observed question names; an other-fact
            # question asks what no observed question about its article asks
            side = "held_out_articles" if truth["relation"] == "new_article" else "observed_articles"
            assert truth["doc_id"] in meta[side]
            asked = {(o["doc_id"], o["kind"]) for o in meta["observed_truth"]}
            assert (truth["doc_id"], truth["kind"]) not in asked
        assert all(t["answer_type"] == "year" and t["answer"] for t in meta["truth"])
        assert meta["default_judge"] == "program:numeric"


def test_any_first_four_held_out_questions_hold_both_kinds_where_the_task_has_both(built):
    folder, report = built
    for task in load_suite(str(folder / "wikifacts.yaml")):
        relations = [t["relation"] for t in task.metadata["truth"]]
        if len(set(relations)) == 2:
            assert set(relations[:2]) == {"new_article", "other_fact"}
    kinds = report["held_out_relations"]["wikifacts"]
    assert kinds["other_fact"] >= 0.3 * sum(kinds.values())


def test_without_siblings_every_held_out_question_is_about_an_unobserved_article(tmp_path, corpus):
    write_suites(tmp_path, BuildSettings(seed=7, siblings=False), corpus)
    for task in load_suite(str(tmp_path / "wikifacts.yaml")):
        assert {t["relation"] for t in task.metadata["truth"]} == {"new_article"}
        assert {t["doc_id"] for t in task.metadata["truth"]} <= set(task.metadata["held_out_articles"])


def test_evaluation_and_training_share_no_article(built):
    folder, _ = built

    def articles(name: str) -> set[str]:
        suite = load_suite(str(folder / f"{name}.yaml"))
        return {a for t in suite for a in t.metadata["observed_articles"] + t.metadata["held_out_articles"]}

    assert not articles("wikifacts") & articles("wikifacts-train")


def test_every_answer_and_its_evidence_are_in_the_source_document(built, corpus):
    folder, _ = built
    with gzip.open(folder / "data" / "wikifacts" / "wikifacts.jsonl.gz", "rt") as rows:
        for row in map(json.loads, rows):
            for truth in row["metadata"]["truth"] + row["metadata"]["observed_truth"]:
                text = corpus.by_id(truth["doc_id"]).text
                assert truth["evidence"] in text and truth["answer"] in truth["evidence"]


@pytest.mark.parametrize(
    ("description", "topic", "expected"),
    [
        ("German-born physicist (1879–1955)", "People",
         [("birth_year", "1879"), ("death_year", "1955")]),
        ("English joint-stock company (1600–1874)", "History",
         [("start_year", "1600"), ("end_year", "1874")]),
        ("American linguist (born 1928)", "People", [("birth_year", "1928")]),
        ("1968 film by Stanley Kubrick", "Arts", [("work_year", "1968")]),
        ("Sufi mystic and poet (1207–1273)", "Philosophy and religion",  # a person filed elsewhere
         [("birth_year", "1207"), ("death_year", "1273")]),
        ("x" * 101 + " (1600–1874)", "History", []),  # the summary's own first line: no fixed form
        ("Greek philosopher (c. 570 – c. 495 BC)", "People", []),  # circa and BC: not one year
        ("Ancient Greek poet (750–650 BC)", "People", []),
        ("Planet", "Physical sciences", []),
        ("Swedish-Russian conflict (1700–1721)", "History",  # a war begins and ends; it is not born
         [("start_year", "1700"), ("end_year", "1721")]),
    ],
)
def test_what_a_description_yields(description, topic, expected):
    document = Document("X", "X (person)", f"{description}\nSummary.", {"topic": topic})
    facts = facts_of(document)
    assert [(f.kind, f.answer) for f in facts] == expected
    for fact in facts:
        assert fact.answer in document.text
        assert " X " in fact.question and "(person)" not in fact.question  # the title's subject
        assert fact.answer not in fact.question  # the description's dates are left out
        assert description.split(" (")[0].split(" by ")[0].removeprefix("1968 ") in fact.question
        assert fact.question.endswith("Answer with the year only.")
