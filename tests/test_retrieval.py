"""BM25, dense and hybrid search; reciprocal rank fusion; indexes stored on disk and reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ads_bench.acquisition import retrieval
from ads_bench.acquisition.corpus import load_corpus
from ads_bench.acquisition.index_store import index_folder
from ads_bench.acquisition.rank_fusion import reciprocal_rank_fusion
from ads_bench.acquisition.retrieval import (
    BM25Index,
    DenseIndex,
    Hit,
    Retriever,
    embedding_model_id,
)
from ads_bench.errors import UserError

ARTICLES = {
    "Cat": "The cat is a small domesticated carnivorous mammal, often kept as a house pet.",
    "Photosynthesis": "Process by which green plants turn sunlight, water and carbon dioxide "
    "into glucose and oxygen.",
    "Volcano": "A rupture in the crust of a planet where lava, ash and gases escape.",
    "Jupiter": "The fifth planet from the Sun and the largest in the Solar System, a gas giant.",
    "Piano": "A keyboard instrument whose hammers strike strings when keys are pressed.",
    "Football": "A team sport played with a ball between two teams of eleven players.",
    "Bread": "A staple food prepared from a dough of flour and water, usually baked.",
    "French Revolution": "A period of political upheaval in France that began in 1789.",
    "Penicillin": "A group of antibiotics first discovered by Alexander Fleming from mould.",
    "Mount Everest": "Earth's highest mountain above sea level, in the Himalayas.",
    "Coffee": "A brewed drink prepared from roasted beans of the Coffea plant.",
    "Bicycle": "A pedal-driven, human-powered vehicle with two wheels attached to a frame.",
    "Shakespeare": "English playwright and poet, author of Hamlet and Romeo and Juliet.",
    "Python (programming language)": "A high-level, general-purpose programming language "
    "emphasising code readability.",
    "Earthquake": "The shaking of the surface of the Earth resulting from a sudden release of "
    "energy in the lithosphere.",
    "Honey": "A sweet, viscous substance made by bees from the nectar of flowers.",
    "Chess": "A board game for two players, each controlling sixteen pieces on a checkered board.",
    "Rain": "Liquid water falling as droplets condensed from atmospheric water vapour in clouds.",
    "Democracy": "A form of government in which the people hold power and elect representatives.",
    "Tiger": "The largest living cat species, with a striped orange coat, native to Asia.",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "articles.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"doc-{n}", "title": title, "text": text}) + "\n"
            for n, (title, text) in enumerate(ARTICLES.items())
        )
    )
    return load_corpus(path, text_field="text", title_field="title", id_field="id")


@pytest.fixture(scope="module")
def retriever(corpus, tmp_path_factory):
    return Retriever.open(corpus, cache_dir=tmp_path_factory.mktemp("cache"))


def top_titles(hits: list[Hit]) -> list[str]:
    return [hit.title for hit in hits]


# --- search quality on an easy corpus --------------------------------------------------------


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_puts_the_obvious_document_first(retriever, mode):
    queries = [
        "volcano lava eruption",
        "which planet is the largest gas giant",
        "who discovered penicillin antibiotics",
        "board game with checkered board",
    ]
    results = retriever.search(queries, k=3, mode=mode)
    assert [hits[0].title for hits in results] == ["Volcano", "Jupiter", "Penicillin", "Chess"]


def test_dense_finds_a_paraphrase_sharing_no_word_that_bm25_cannot(retriever):
    query = ["kitten"]
    assert retriever.search(query, k=3, mode="bm25") == [[]]
    assert retriever.search(query, k=1, mode="dense")[0][0].title == "Cat"


def test_hits_carry_the_document_and_come_ranked_best_first(retriever, corpus):
    for mode in ["bm25", "dense", "hybrid"]:
        (hits,) = retriever.search(["sweet substance made by bees"], k=5, mode=mode)
        assert len(hits) <= 5
        assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
        honey = next(doc for doc in corpus if doc.title == "Honey")
        assert hits[0] == Hit(honey.doc_id, honey.title, honey.text, hits[0].score, 1)


def test_k_larger_than_the_corpus_returns_every_document_once(retriever, corpus):
    (hits,) = retriever.search(["planet"], k=100, mode="dense")
    assert sorted(hit.doc_id for hit in hits) == sorted(doc.doc_id for doc in corpus)


def test_a_batch_answers_each_query_as_if_asked_alone(retriever):
    queries = ["coffee beans", "tallest mountain on earth", "two wheeled vehicle"]
    batched = retriever.search(queries, k=3, mode="hybrid")
    alone = [retriever.search([query], k=3, mode="hybrid")[0] for query in queries]
    assert [top_titles(h) for h in batched] == [top_titles(h) for h in alone]
    assert retriever.search([], k=3, mode="hybrid") == []


# --- reciprocal rank fusion ------------------------------------------------------------------


def test_rrf_adds_one_over_k_plus_rank_across_rankings():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]], k=60))
    assert fused == pytest.approx(
        {"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 63 + 1 / 62, "d": 1 / 63}
    )
    order = [item for item, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]])]
    assert order == ["b", "c", "a", "d"]


def test_rrf_with_k_zero_is_the_sum_of_reciprocal_ranks_and_ties_keep_first_seen_order():
    assert reciprocal_rank_fusion([["x"], ["y", "x"]], k=0) == [("x", 1.5), ("y", 1.0)]
    assert [item for item, _ in reciprocal_rank_fusion([["p"], ["q"]])] == ["p", "q"]


def test_a_small_k_lets_the_top_of_one_ranking_win_a_large_k_rewards_agreement():
    rankings = [["solo", "shared"], ["other", "x", "y", "z", "shared"]]
    assert reciprocal_rank_fusion(rankings, k=0)[0][0] == "solo"
    assert reciprocal_rank_fusion(rankings, k=60)[0][0] == "shared"


def test_hybrid_search_is_the_rrf_of_the_bm25_and_dense_rankings(retriever):
    query = "water falling from clouds"
    depth = retriever.fusion_depth
    sparse = [doc for doc, _ in retriever.bm25_index().rankings([query], depth)[0]]
    dense = [doc for doc, _ in retriever.dense_index().rankings([query], depth)[0]]
    expected = reciprocal_rank_fusion([sparse, dense], k=retriever.rrf_k)[:5]
    (hits,) = retriever.search([query], k=5, mode="hybrid")
    assert [(hit.doc_id, hit.score) for hit in hits] == [
        (retriever.corpus[doc].doc_id, pytest.approx(score)) for doc, score in expected
    ]


# --- indexes on disk -------------------------------------------------------------------------


def test_indexes_are_stored_under_the_corpus_fingerprint_and_reused(corpus, tmp_path, monkeypatch):
    first = Retriever.open(corpus, cache_dir=tmp_path)
    assert first.prepare(["hybrid"]) == {"bm25": "built", "dense": "built"}
    dense_folder = index_folder(corpus, DenseIndex.key(first.dense_model_id), tmp_path)
    assert dense_folder.parent.name == corpus.fingerprint
    assert (dense_folder / "manifest.json").is_file()
    built_at = (dense_folder / "manifest.json").stat().st_mtime_ns

    def must_not_embed_the_corpus_again(*args, **kwargs):
        raise AssertionError("the corpus was embedded again")

    monkeypatch.setattr(retrieval, "_encode_corpus", must_not_embed_the_corpus_again)
    monkeypatch.setattr(BM25Index, "build", must_not_embed_the_corpus_again)
    second = Retriever.open(corpus, cache_dir=tmp_path)
    assert second.prepare(["hybrid"]) == {"bm25": "loaded", "dense": "loaded"}
    assert (dense_folder / "manifest.json").stat().st_mtime_ns == built_at
    assert second.search(["kitten"], k=1, mode="dense")[0][0].title == "Cat"


def run_python(code: str, cache_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, ADS_BENCH_CACHE_DIR=str(cache_dir), HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


OPEN_AND_REPORT = """
    import json, sys
    from ads_bench.acquisition import retrieval
    from ads_bench.acquisition.corpus import load_corpus
    corpus = load_corpus(sys.argv[1] if len(sys.argv) > 1 else {path!r},
                         text_field="text", title_field="title", id_field="id")
    retriever = retrieval.Retriever.open(corpus)
    origin = retriever.prepare({modes!r})
    print(json.dumps({{"origin": origin, "model_loaded": bool(retrieval._loaded_models)}}))
"""


def test_a_second_process_loads_the_indexes_without_loading_the_model(corpus, tmp_path):
    Retriever.open(corpus, cache_dir=tmp_path).prepare(["hybrid"])
    code = OPEN_AND_REPORT.format(path=corpus.source, modes=["hybrid"])
    process = run_python(code, tmp_path)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    report = json.loads(stdout)
    assert report == {"origin": {"bm25": "loaded", "dense": "loaded"}, "model_loaded": False}


def test_two_processes_building_at_once_build_once_and_both_get_the_index(corpus, tmp_path):
    code = OPEN_AND_REPORT.format(path=corpus.source, modes=["bm25"])
    processes = [run_python(code, tmp_path) for _ in range(2)]
    reports = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        reports.append(json.loads(stdout)["origin"]["bm25"])
    assert sorted(reports) == ["built", "loaded"]
    folder = index_folder(corpus, BM25Index.key(), tmp_path)
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_leftovers_of_a_crashed_build_are_cleared_and_the_index_rebuilt(corpus, tmp_path):
    folder = index_folder(corpus, BM25Index.key(), tmp_path)
    folder.mkdir(parents=True)  # renamed into place but with no manifest: never completed
    (folder / "half-written.npy").write_bytes(b"\0")
    crashed = folder.parent / f".{folder.name}.tmp-crashed"
    crashed.mkdir()
    retriever = Retriever.open(corpus, cache_dir=tmp_path)
    assert retriever.prepare(["bm25"]) == {"bm25": "built"}
    assert not crashed.exists()
    assert not (folder / "half-written.npy").exists()
    assert retriever.search(["lava"], k=1, mode="bm25")[0][0].title == "Volcano"


def test_each_dense_model_gets_its_own_index_folder(tmp_path):
    default = embedding_model_id(None)
    assert default == embedding_model_id("all-MiniLM-L6-v2")
    local = tmp_path / "my-model"
    local.mkdir()
    assert embedding_model_id(str(local)) == str(local.resolve())
    keys = {DenseIndex.key(default), DenseIndex.key(str(local)), DenseIndex.key("org/other")}
    assert len(keys) == 3


# --- mistakes a user can make ----------------------------------------------------------------


def test_an_unknown_mode_or_a_k_below_one_is_a_user_error(retriever):
    with pytest.raises(UserError, match="unknown search mode 'sparse'.*bm25, dense, hybrid"):
        retriever.search(["cat"], k=3, mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="k >= 1"):
        retriever.search(["cat"], k=0, mode="bm25")
    with pytest.raises(TypeError, match="list of queries"):
        retriever.search("cat", k=3, mode="bm25")


def test_an_embedding_model_that_is_not_on_disk_is_a_user_error(corpus, tmp_path):
    retriever = Retriever.open(corpus, str(tmp_path / "no-such-model"), cache_dir=tmp_path)
    with pytest.raises(UserError, match="cannot be loaded from local files.*folder"):
        retriever.search(["cat"], k=1, mode="dense")


# --- the shipped corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def wikipedia():
    # the session's cache folder (see conftest): ADS_BENCH_TEST_CACHE pointed at a folder that
    # already holds the indexes makes the slow test below take seconds instead of minutes
    return Retriever.open(load_corpus())


def test_bm25_over_the_shipped_wikipedia_corpus(wikipedia):
    (hits,) = wikipedia.search(["theory of relativity physicist"], k=5, mode="bm25")
    assert hits[0].doc_id == "Albert Einstein"


@pytest.mark.slow  # embeds 10,033 documents: minutes on 2 CPU cores
def test_dense_and_hybrid_over_the_shipped_wikipedia_corpus(wikipedia):
    dense = wikipedia.search(["how do plants make food from light", "largest ocean"], 3, "dense")
    assert [hits[0].doc_id for hits in dense] == ["Photosynthesis", "Pacific Ocean"]
    queries = ["the physicist who developed general relativity", "largest ocean on earth"]
    hybrid = wikipedia.search(queries, k=3, mode="hybrid")
    assert [hits[0].doc_id for hits in hybrid] == ["Albert Einstein", "Pacific Ocean"]
