"""Loading corpora from files, the shipped Wikipedia corpus, and corpus fingerprints."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from ads_bench.acquisition.corpus import DEFAULT_CORPUS, Document, load_corpus
from ads_bench.errors import UserError

RECORDS = [
    {"id": "a1", "title": "Cats", "body": "Cats are small carnivorous mammals.", "lang": "en"},
    {"id": "b2", "title": "Rivers", "body": "A river is a natural stream of water.", "lang": "en"},
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def load_jsonl(tmp_path: Path, records: list[dict], name: str = "docs.jsonl"):
    return load_corpus(
        write_jsonl(tmp_path / name, records), text_field="body", title_field="title", id_field="id"
    )


def test_jsonl_records_become_documents_with_the_named_fields(tmp_path):
    corpus = load_jsonl(tmp_path, RECORDS)
    assert [doc.doc_id for doc in corpus] == ["a1", "b2"]
    assert corpus[0] == Document("a1", "Cats", "Cats are small carnivorous mammals.")
    assert corpus[0].metadata == {"lang": "en"}
    assert corpus[0].searchable_text == "Cats\nCats are small carnivorous mammals."


def test_documents_can_be_looked_up_by_id(tmp_path):
    corpus = load_jsonl(tmp_path, RECORDS)
    assert corpus.by_id("b2").title == "Rivers"
    with pytest.raises(KeyError):
        corpus.by_id("zz")


def test_the_same_documents_in_json_jsonl_gz_and_parquet_load_alike(tmp_path):
    jsonl = load_jsonl(tmp_path, RECORDS)
    (tmp_path / "docs.json").write_text(json.dumps(RECORDS))
    with gzip.open(tmp_path / "docs.jsonl.gz", "wt") as file:
        file.writelines(json.dumps(record) + "\n" for record in RECORDS)
    pd.DataFrame(RECORDS).to_parquet(tmp_path / "docs.parquet")
    fields = {"text_field": "body", "title_field": "title", "id_field": "id"}
    for name in ["docs.json", "docs.jsonl.gz", "docs.parquet"]:
        other = load_corpus(tmp_path / name, **fields)
        assert other.documents == jsonl.documents, name
        assert other.fingerprint == jsonl.fingerprint, name


def test_without_an_id_field_records_are_numbered_and_object_keys_are_ids(tmp_path):
    numbered = load_corpus(write_jsonl(tmp_path / "docs.jsonl", RECORDS), text_field="body")
    assert [doc.doc_id for doc in numbered] == ["0", "1"]
    assert numbered[0].title == ""
    (tmp_path / "keyed.json").write_text(json.dumps({r["id"]: r for r in RECORDS}))
    keyed = load_corpus(tmp_path / "keyed.json", text_field="body")
    assert [doc.doc_id for doc in keyed] == ["a1", "b2"]


def test_several_text_fields_are_joined_by_newlines_skipping_empty_ones(tmp_path):
    records = [{"lead": "First part.", "rest": "", "more": "Second part."}]
    corpus = load_corpus(
        write_jsonl(tmp_path / "docs.jsonl", records), text_field=["lead", "rest", "more"]
    )
    assert corpus[0].text == "First part.\nSecond part."


def test_fingerprint_changes_when_a_document_changes_and_not_otherwise(tmp_path):
    original = load_jsonl(tmp_path, RECORDS)
    again = load_jsonl(tmp_path, RECORDS, name="copy.jsonl")
    assert again.fingerprint == original.fingerprint

    metadata_only = [dict(RECORDS[0], lang="fr"), RECORDS[1]]
    assert load_jsonl(tmp_path, metadata_only, "m.jsonl").fingerprint == original.fingerprint

    edited_text = [dict(RECORDS[0], body="Cats are small mammals."), RECORDS[1]]
    edited_title = [dict(RECORDS[0], title="Cat"), RECORDS[1]]
    edited_id = [dict(RECORDS[0], id="a9"), RECORDS[1]]
    reordered = [RECORDS[1], RECORDS[0]]
    fewer = RECORDS[:1]
    for name, records in [
        ("text", edited_text),
        ("title", edited_title),
        ("id", edited_id),
        ("order", reordered),
        ("count", fewer),
    ]:
        changed = load_jsonl(tmp_path, records, f"{name}.jsonl")
        assert changed.fingerprint != original.fingerprint, name


def test_text_is_unicode_normalised_so_equal_looking_text_fingerprints_equal(tmp_path):
    composed = [{"text": "caf\u00e9"}]
    decomposed = [{"text": "cafe\u0301"}]
    a = load_corpus(write_jsonl(tmp_path / "a.jsonl", composed))
    b = load_corpus(write_jsonl(tmp_path / "b.jsonl", decomposed))
    assert a[0].text == b[0].text == "caf\u00e9"
    assert a.fingerprint == b.fingerprint


def test_the_shipped_wikipedia_corpus_loads_by_default():
    corpus = load_corpus()
    assert corpus.name == DEFAULT_CORPUS
    assert len(corpus) == 10_033
    einstein = next(doc for doc in corpus if doc.doc_id == "Albert Einstein")
    assert einstein.title == "Albert Einstein"
    description, summary = einstein.text.split("\n", 1)
    assert "physicist" in description
    assert summary.startswith("Albert Einstein")
    assert set(einstein.metadata) == {"topic"}
    assert load_corpus(DEFAULT_CORPUS).fingerprint == corpus.fingerprint


# --- mistakes a user can make ----------------------------------------------------------------


def test_a_missing_file_names_the_accepted_inputs(tmp_path):
    with pytest.raises(UserError, match=r"does not exist.*\.jsonl.*wiki-vital-level4"):
        load_corpus(tmp_path / "nope.jsonl")


def test_an_unknown_format_names_the_accepted_suffixes(tmp_path):
    (tmp_path / "docs.csv").write_text("id,text\n1,hello\n")
    with pytest.raises(UserError, match=r"unknown corpus format.*\.jsonl.*\.parquet"):
        load_corpus(tmp_path / "docs.csv")


def test_a_missing_text_field_names_the_fields_present_and_the_option(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", RECORDS)
    with pytest.raises(UserError, match=r"no 'text' field.*body, id, lang, title.*text_field"):
        load_corpus(path)


def test_a_missing_id_field_names_the_option(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", RECORDS)
    with pytest.raises(UserError, match=r"record 0 .* no '_id' field.*id_field"):
        load_corpus(path, text_field="body", id_field="_id")


def test_broken_jsonl_names_the_line(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "fine"}\n{"text": broken}\n')
    with pytest.raises(UserError, match=r"line 2 is not valid JSON"):
        load_corpus(path)


def test_broken_json_and_json_of_the_wrong_shape_are_user_errors(tmp_path):
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(UserError, match="not valid JSON"):
        load_corpus(tmp_path / "bad.json")
    (tmp_path / "scalar.json").write_text("42")
    with pytest.raises(UserError, match="list of records or an object"):
        load_corpus(tmp_path / "scalar.json")
    (tmp_path / "strings.json").write_text('["just text"]')
    with pytest.raises(UserError, match="not an object"):
        load_corpus(tmp_path / "strings.json")


def test_duplicate_ids_and_empty_files_are_user_errors(tmp_path):
    duplicated = write_jsonl(tmp_path / "dup.jsonl", [RECORDS[0], RECORDS[0]])
    with pytest.raises(UserError, match="'a1' occurs twice"):
        load_corpus(duplicated, text_field="body", id_field="id")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(UserError, match="holds no records"):
        load_corpus(empty)


def test_an_unreadable_parquet_file_is_a_user_error(tmp_path):
    (tmp_path / "docs.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(UserError, match="cannot be read as parquet"):
        load_corpus(tmp_path / "docs.parquet")
