"""A matplotlib figure (no display needed) and its SVG text, for every plot the project draws."""

from __future__ import annotations

import io
from typing import Any


def new_figure(width: float = 6.0, height: float = 3.2):
    from ads_bench.extras import require

    require("report")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(width, height))
    return plt, figure, axis


def svg_of(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline-able: without the XML prolog and doctype
