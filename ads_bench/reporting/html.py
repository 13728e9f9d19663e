"""The report's HTML, rendered by jinja2 with autoescaping (``templates/``).

Every piece of markup comes from a template; Python hands templates data. Text from a run (model
output, judge output, task text, config values) is escaped by jinja2 wherever it lands, because
only what a template rendered (or matplotlib's SVG, marked as such in :func:`figure`) is
:class:`~markupsafe.Markup`: concatenating Markup with a plain ``str`` escapes the ``str``.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup


@functools.cache
def environment() -> Any:
    from ads_bench.extras import require

    require("report")
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("ads_bench.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=esc,  # every value a template shows: escaped as below, None as nothing
        keep_trailing_newline=True,
    )


@functools.cache
def _components() -> Any:
    return environment().get_template("components.html").module


def page(title: str, heading: str, subheading: str, body: Markup) -> str:
    """The whole self-contained page: CSS and script inline, ``body`` inside ``<main>``."""
    return environment().get_template("report.html").render(
        title=title, heading=heading, subheading=subheading, body=body)


def esc(value: Any) -> Markup:
    """``value`` as HTML text: markup stays markup; any other value is escaped, quotes included
    (``&quot;``, as the report always wrote them), and None is nothing."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any]) -> Markup:
    return Markup("").join(esc(part) for part in parts)


def tag(name: str, content: Any = "", **attributes: Any) -> Markup:
    """``<name attributes>content</name>``; ``class_`` is ``class``, ``data_x`` is ``data-x``."""
    named = {key.rstrip("_").replace("_", "-"): value for key, value in attributes.items()}
    return Markup(_components().element(name, esc(content), named))


def text_block(value: Any) -> Markup:
    return tag("pre", value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False),
               class_="text")


def details(summary: Any, body: Any, class_: str | None = None, open_: bool = False) -> Markup:
    return Markup(_components().details(esc(summary), esc(body), class_, open_))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = ()) -> Markup:
    return Markup(_components().table(list(headers), [[esc(cell) for cell in row] for row in rows],
                                      list(numeric)))


def badge(text: Any, kind: str = "") -> Markup:
    return Markup(_components().badge(esc(text), kind))


def card(label: str, value: Any, sub: Any = "") -> Markup:
    return Markup(_components().card(esc(label), esc(value), esc(sub)))


def figure(plot_id: str, svg: str, caption: str, suffix: str = "") -> Markup:
    """A plot: class ``plot <plot_id>`` and id ``<plot_id>`` (``<plot_id>--<run>`` in a multi-run report).

    ``svg`` is matplotlib's, the one markup not made by a template (its text is escaped by
    matplotlib)."""
    element_id = f"{plot_id}--{suffix}" if suffix else plot_id
    return Markup(_components().figure(plot_id, element_id, Markup(svg), caption))


def browser(entries: Markup, note: Any = "") -> Markup:
    return Markup(_components().browser(esc(entries), esc(note)))
