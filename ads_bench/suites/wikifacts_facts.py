"""Facts a program can check, read off the shipped Wikipedia summaries by regular expressions.

Only patterns that the summaries state in one fixed form are used, so that every extracted answer
is right by construction and appears verbatim in its source document (tested):

- a lifespan in the Wikidata description, ``German-born theoretical physicist (1879–1955)``:
  people give a year of birth and a year of death; anything else (a company, a state, a dynasty)
  a year it began and a year it ended;
- ``(born 1942)`` in a description: a year of birth;
- a description that opens with a year and a kind of work, ``1968 film by Stanley Kubrick``: the
  year the work came out.

Descriptions with ``BC``/``BCE`` or ``c.`` (circa) dates are skipped: the year alone would not be
the whole answer. Every answer is a year (``answer_type: year``), so the numeric judge can check it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ads_bench.acquisition.corpus import Corpus, Document

#: appended to every question: a format the policy can copy, and that the judges can read
ANSWER_FORMAT = "Answer with the year only."

_LIFESPAN = re.compile(r"\((\d{3,4})\s*[–-]\s*(\d{3,4})\)")
_BORN = re.compile(r"\(born (\d{4})\)")
_WORK = re.compile(r"^(\d{4}) (?:[a-z-]+ )*?([a-z]+) (?:by|directed|based|attributed|of|on)\b")
_UNCERTAIN = re.compile(r"\b(?:BC|BCE|AD|CE|c\.|ca\.|fl\.|circa)(?:\s|\)|$)")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")

_WORK_VERBS = {
    "released": ("film", "single", "album", "song"),
    "published": ("novel", "novella", "book", "poem", "play", "treatise", "pamphlet", "essay",
                  "work", "translations"),
    "painted": ("painting",),
    "composed": ("opera", "ballet", "symphony", "composition", "mass", "oratorio", "musical"),
    "made": ("sculpture",),
}
_VERB_OF_KIND = {kind: verb for verb, kinds in _WORK_VERBS.items() for kind in kinds}


@dataclass(frozen=True)
class Fact:
    """One question about one article, with its checked answer."""

    doc_id: str
    kind: str  # birth_year, death_year, start_year, end_year, work_year
    question: str
    answer: str
    answer_type: str
    evidence: str  # the text the answer was read from (a substring of the document)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def subject(title: str) -> str:
    """The article's subject as a question names it: ``Mercury (planet)`` -> ``Mercury``."""
    return _PARENTHESIS.sub("", title).strip() or title


def _question(text: str) -> str:
    return f"{text} {ANSWER_FORMAT}"


def facts_of(document: Document) -> list[Fact]:
    """The checkable facts of one shipped-corpus document (its body: description, newline, summary)."""
    description = document.text.split("\n", 1)[0]
    if _UNCERTAIN.search(description):
        return []
    name = subject(document.title)
    person = document.metadata.get("topic") == "People"
    facts: list[Fact] = []
    lifespan = _LIFESPAN.search(description)
    if lifespan and int(lifespan.group(1)) <= int(lifespan.group(2)):
        first, last = lifespan.group(1), lifespan.group(2)
        if person:
            asks = (("birth_year", f"In what year was {name} born?", first),
                    ("death_year", f"In what year did {name} die?", last))
        else:
            asks = (("start_year", f"In what year did {name} begin?", first),
                    ("end_year", f"In what year did {name} end?", last))
        facts += [Fact(document.doc_id, kind, _question(q), a, "year", lifespan.group(0))
                  for kind, q, a in asks]
    elif (born := _BORN.search(description)) and person:
        facts.append(Fact(document.doc_id, "birth_year", _question(f"In what year was {name} born?"),
                          born.group(1), "year", born.group(0)))
    elif (work := _WORK.match(description)) and work.group(2) in _VERB_OF_KIND:
        verb = _VERB_OF_KIND[work.group(2)]
        facts.append(Fact(document.doc_id, "work_year",
                          _question(f"In what year was the {work.group(2)} {name} {verb}?"),
                          work.group(1), "year", work.group(0)))
    return facts


def corpus_facts(corpus: Corpus) -> dict[str, list[Fact]]:
    """Facts per document id, for every document that has at least one."""
    out: dict[str, list[Fact]] = {}
    for document in corpus:
        facts = facts_of(document)
        if facts:
            out[document.doc_id] = facts
    return out
