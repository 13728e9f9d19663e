"""Knowledge corpora for the Information Retrieval API: loading and fingerprinting.

A corpus is an ordered list of :class:`Document` s. It comes either from the shipped
Wikipedia corpus (10,033 vital-article summaries, see ``corpora/wiki_vital_level4/``) or from
a user's JSONL, JSON or parquet file whose id/title/text field names the user gives.

Document text is *the body only*; the title is kept apart so that a hit can show both
without repeating the title. What retrieval indexes is :attr:`Document.searchable_text`,
the title followed by the body, so a query naming the article's subject still matches.
For the shipped corpus the body is the Wikidata short description, then the article's
lead summary ("German-born theoretical physicist (1879–1955)\\nAlbert Einstein was ...").
"""

from __future__ import annotations

import gzip
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ads_bench.errors import UserError
from ads_bench.paths import corpora_dir

#: bump when the normalisation or the hashed layout changes, so old cache keys stop matching
FINGERPRINT_VERSION = 1

SHIPPED_CORPORA_DIR = corpora_dir()


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def searchable_text(self) -> str:
        """What the indexes see: the title (when there is one) and then the body."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class FieldMap:
    """Which record fields make a document.

    ``text`` may name several fields: their non-empty values are joined by newlines.
    ``doc_id=None`` takes a JSON object's keys as ids, or else the record's position.
    """

    text: tuple[str, ...] = ("text",)
    title: str | None = None
    doc_id: str | None = None


@dataclass(frozen=True)
class CorpusSpec:
    """A corpus that ships with the project, known by name."""

    name: str
    path: Path
    fields: FieldMap
    description: str


SHIPPED_CORPORA: dict[str, CorpusSpec] = {
    spec.name: spec
    for spec in [
        CorpusSpec(
            name="wiki-vital-level4",
            path=SHIPPED_CORPORA_DIR
            / "wiki_vital_level4"
            / "wikipedia_vital_level4_summaries_en.json.gz",
            fields=FieldMap(text=("description", "extract"), title="title", doc_id=None),
            description="English Wikipedia lead summaries of the 10,033 level-4 vital articles "
            "(CC BY-SA 4.0)",
        )
    ]
}
DEFAULT_CORPUS = "wiki-vital-level4"


@dataclass(frozen=True)
class Corpus:
    name: str
    source: str
    documents: tuple[Document, ...]
    #: sha256 over the normalised (id, title, text) of every document, in order; part of
    #: every cache key that depends on this corpus (indexes, retrieval results)
    fingerprint: str

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __getitem__(self, position: int) -> Document:
        return self.documents[position]

    def by_id(self, doc_id: str) -> Document:
        """The document with this id; KeyError if there is none."""
        return self.documents[self._positions[doc_id]]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {document.doc_id: position for position, document in enumerate(self.documents)}


def load_corpus(
    path: str | Path | None = None,
    *,
    text_field: str | Sequence[str] = "text",
    title_field: str | None = None,
    id_field: str | None = None,
) -> Corpus:
    """Load the shipped corpus (``path=None`` or a shipped corpus's name) or a user's file.

    A user's file is ``.jsonl``, ``.json`` (a list of records, or an object of records keyed
    by id) or ``.parquet``; ``.jsonl.gz`` and ``.json.gz`` work too. The field arguments say
    which record fields hold the text, title and id; they are ignored for a shipped corpus.
    """
    if path is None:
        path = DEFAULT_CORPUS
    if str(path) in SHIPPED_CORPORA:
        spec = SHIPPED_CORPORA[str(path)]
        if not spec.path.is_file():
            raise UserError(
                f"the shipped corpus file {spec.path} is missing: restore it from a source "
                "checkout of ads-bench (corpora/ sits beside the package), or pass a corpus file"
            )
        return _corpus_from_records(spec.name, spec.path, _read_records(spec.path), spec.fields)

    file = Path(path).expanduser()
    if not file.is_file():
        known = ", ".join(sorted(SHIPPED_CORPORA))
        raise UserError(
            f"corpus file {file} does not exist: pass the path of a .jsonl, .json or .parquet "
            f"file, or a shipped corpus name ({known})"
        )
    text_fields = (text_field,) if isinstance(text_field, str) else tuple(text_field)
    if not text_fields:
        raise UserError("no text field given: name the field(s) that hold each document's text")
    fields = FieldMap(text=text_fields, title=title_field, doc_id=id_field)
    return _corpus_from_records(file.name, file, _read_records(file), fields)


def corpus_fingerprint(documents: Iterable[Document]) -> str:
    """sha256 over the normalised documents: equal whatever file format or field names they
    came from, different as soon as one id, title, text or the order changes.

    Metadata is left out on purpose: no index or search result depends on it.
    """
    digest = hashlib.sha256(f"ads-bench corpus v{FINGERPRINT_VERSION}\n".encode())
    for document in documents:
        line = json.dumps([document.doc_id, document.title, document.text], ensure_ascii=False)
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


# --- reading records -------------------------------------------------------------------------

Record = tuple[str | None, dict[str, Any]]  # (key of a JSON object of records, the record)


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _read_jsonl(path: Path) -> list[Record]:
    records: list[Record] = []
    with _open_text(path) as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append((None, json.loads(line)))
            except json.JSONDecodeError as error:
                raise UserError(
                    f"{path}, line {line_number} is not valid JSON ({error.msg}): "
                    "fix that line; a .jsonl file holds one JSON object per line"
                ) from None
    return records


def _read_json(path: Path) -> list[Record]:
    try:
        with _open_text(path) as text:
            data = json.load(text)
    except json.JSONDecodeError as error:
        raise UserError(
            f"{path} is not valid JSON ({error.msg} at line {error.lineno}): fix the file, "
            "or name it .jsonl if it holds one JSON object per line"
        ) from None
    if isinstance(data, list):
        return [(None, record) for record in data]
    if isinstance(data, dict):
        return [(str(key), record) for key, record in data.items()]
    raise UserError(
        f"{path} holds a JSON {type(data).__name__}: a corpus file must hold a list of records "
        "or an object of records keyed by id"
    )


def _read_parquet(path: Path) -> list[Record]:
    from ads_bench.extras import require

    require("suites", f"reading the parquet corpus {path.name}")
    import pandas as pd  # heavy: only for parquet corpora

    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types for a bad file
        raise UserError(f"{path} cannot be read as parquet ({error}): check the file") from None
    return [(None, record) for record in frame.to_dict(orient="records")]


_READERS = {
    ".jsonl": _read_jsonl,
    ".jsonl.gz": _read_jsonl,
    ".json": _read_json,
    ".json.gz": _read_json,
    ".parquet": _read_parquet,
}


def _read_records(path: Path) -> list[Record]:
    name = path.name.lower()
    for suffix, reader in _READERS.items():
        if name.endswith(suffix):
            return reader(path)
    raise UserError(
        f"{path} has an unknown corpus format: give a file ending in " + ", ".join(_READERS)
    )


# --- records to documents --------------------------------------------------------------------


def _normalise(value: str) -> str:
    # NFC so that the same visible text tokenises, embeds and hashes the same way
    return unicodedata.normalize("NFC", value).strip()


def _string_field(record: dict[str, Any], name: str, position: int, source: Path, role: str) -> str:
    value = record.get(name)
    if value is None:
        present = ", ".join(sorted(record)) or "none"
        raise UserError(
            f"record {position} of {source} has no '{name}' field for the {role} "
            f"(its fields: {present}): pass the right field's name as {role}_field"
        )
    return value if isinstance(value, str) else str(value)


def _corpus_from_records(
    name: str, source: Path, records: list[Record], fields: FieldMap
) -> Corpus:
    if not records:
        raise UserError(f"{source} holds no records: a corpus needs at least one document")
    documents: list[Document] = []
    seen_ids: set[str] = set()
    used_fields = {*fields.text, fields.title, fields.doc_id}
    for position, (key, record) in enumerate(records):
        if not isinstance(record, dict):
            raise UserError(
                f"record {position} of {source} is a {type(record).__name__}, not an object: "
                "every record must be a JSON object with named fields"
            )
        if fields.doc_id is not None:
            doc_id = _string_field(record, fields.doc_id, position, source, "id")
        else:
            doc_id = key if key is not None else str(position)
        doc_id = _normalise(doc_id)
        if doc_id in seen_ids:
            raise UserError(
                f"document id '{doc_id}' occurs twice in {source}: ids must be unique; "
                "name another id field, or none to number records by position"
            )
        seen_ids.add(doc_id)
        parts = [_string_field(record, name, position, source, "text") for name in fields.text]
        text = "\n".join(part for part in map(_normalise, parts) if part)
        title = (
            _normalise(_string_field(record, fields.title, position, source, "title"))
            if fields.title is not None
            else ""
        )
        metadata = {k: v for k, v in record.items() if k not in used_fields}
        documents.append(Document(doc_id=doc_id, title=title, text=text, metadata=metadata))
    return Corpus(
        name=name,
        source=str(source),
        documents=tuple(documents),
        fingerprint=corpus_fingerprint(documents),
    )
