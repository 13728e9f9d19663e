"""Facts a program can check, read off the shipped Wikipedia summaries by regular expressions.

Only patterns that the summaries state in one fixed form are used, so that every extracted answer
is right by construction and appears verbatim in its source document (tested):

- a lifespan in the Wikidata description, ``German-born theoretical physicist (1879–1955)``:
  people give a year of birth and a year of death; a company, a state, a dynasty ... (its
  description says so) a year it began and a year it ended;
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
MAX_DESCRIPTION = 100

_LIFESPAN = re.compile(r"\((\d{3,4})\s*[–-]\s*(\d{3,4})\)")
_BORN = re.compile(r"\(born (\d{4})\)")
_WORK = re.compile(r"^(\d{4}) (?:[a-z-]+ )*?([a-z]+) (?:by|directed|based|attributed|of|on)\b")
_UNCERTAIN = re.compile(r"\b(?:BC|BCE|AD|CE|c\.|ca\.|fl\.|circa)(?:\s|\)|$)")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")
_DATES = re.compile(r"\s*\((?:born )?[\d–-]+\)|^\d{4}\s+")

#: a lifespan of one of these began and ended; any other lifespan is a person's (the corpus files
#: some people under other topics: "Sufi mystic and poet (1207–1273)" is in Philosophy and religion)
_INSTITUTION = re.compile(
    r"\b(?:empire|dynasty|state|states|company|kingdom|period|war|era|republic|caliphate|union|"
    r"organi[sz]ation|movement|league|party|civili[sz]ation|culture|country|confederation|sultanate|"
    r"khanate|federation|monarchy|government|regime|colony|alliance|band|group|duchy|principality|"
    r"reich|order|church|council|conference|revolution|expedition|crusade|treaty|age|conflict|"
    r"battle|siege|rebellion|uprising|invasion|campaign|occupation|genocide|pandemic|epidemic|"
    r"famine|crisis|program|programme|mission|dispute|insurgency|reformation|schism)\b", re.IGNORECASE)

_WORK_VERBS = {
    "released": ("film", "single", "album", "song"),
    "published": ("novel", "novella", "book", "poem", "play", "treatise", "pamphlet", "essay"),
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


def _described(name: str, description: str) -> str:
    """``Albert Einstein (German-born theoretical physicist)``: the subject with its Wikidata
    description, dates removed (they are the answers). The description is the first line of the
    article's text, so the question shares its words and a search for the question finds the
    article's neighbours of one kind."""
    kind = _DATES.sub("", description).strip(" ,;")
    return f"{name} ({kind})" if kind else name


def facts_of(document: Document) -> list[Fact]:
    """The checkable facts of one shipped-corpus document (its body: description, newline, summary)."""
    description = document.text.split("\n", 1)[0]
    if _UNCERTAIN.search(description) or len(description) > MAX_DESCRIPTION:
        return []  # a long first line is the summary itself (no Wikidata description): no fixed form
    name = _described(subject(document.title), description)
    person = document.metadata.get("topic") == "People" or not _INSTITUTION.search(description)
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
    return [fact for fact in facts if fact.answer not in fact.question]  # never give it away


def corpus_facts(corpus: Corpus) -> dict[str, list[Fact]]:
    """Facts per document id, for every document that has at least one."""
    out: dict[str, list[Fact]] = {}
    for document in corpus:
        facts = facts_of(document)
        if facts:
            out[document.doc_id] = facts
    return out
