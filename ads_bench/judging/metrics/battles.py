"""Pairwise battles, and how Arena-Hard turns a judge's verdicts into them.

Source: lmarena/arena-hard-auto v0.1, ``show_result.py::get_battles_from_row`` (verdict labels,
the ×3 weight of strong verdicts, the position swap of the second game), the v2 label table in
``show_result.py::load_judgments`` (``A<B``, ``B<A`` ... spellings, read only when asked to
normalise labels), and ``utils/add_markdown_info.py::count_markdown_elements`` (the style
counts).

Arena-Hard judges each (prompt, model) twice: game 1 shows the baseline's answer as A and the
model's as B; game 2 swaps them. Each game becomes one battle "baseline vs model" recorded with
the baseline as ``model_a``; a strong verdict (``A>>B``) becomes ``strong_weight`` identical
battles (rows, resampled independently by the bootstrap, as arena-hard does). A missing or
unknown verdict produces no battle and is counted as a failed game.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: verdict label -> (score of the answer shown as A: 1 win, 0.5 tie, 0 loss; is it strong).
#: Exactly the five labels v0.1's ``get_battles_from_row`` compares the score with (``==``, so
#: no other spelling and no surrounding space): any other label drops that game.
VERDICTS: dict[str, tuple[float, bool]] = {
    "A>>B": (1.0, True),
    "A>B": (1.0, False),
    "A=B": (0.5, False),
    "B>A": (0.0, False),
    "B>>A": (0.0, True),
}
#: with ``normalize=True`` (files from other judges, and this project's own arena-hard judge,
#: whose config accepts ``B=A``): the v2 spellings too, surrounding space ignored
NORMALIZED_VERDICTS: dict[str, tuple[float, bool]] = {
    **VERDICTS,
    "B<<A": (1.0, True),
    "B<A": (1.0, False),
    "B=A": (0.5, False),
    "A<B": (0.0, False),
    "A<<B": (0.0, True),
}


def verdict_outcome(label: object, normalize: bool = False) -> tuple[float, bool] | None:
    """(score of the answer shown as A, is it strong) of a verdict label; None for a failed game."""
    if not isinstance(label, str):
        return None
    return NORMALIZED_VERDICTS.get(label.strip()) if normalize else VERDICTS.get(label)


#: the style covariates of Arena-Hard's style control, in its order
STYLE_FEATURES: tuple[str, ...] = ("length", "headers", "lists", "bold")


@dataclass(frozen=True)
class Battles:
    """One row per battle between ``model_a`` and ``model_b``.

    ``score_a``: 1 when A won, 0 when B won, 0.5 for a tie. ``prompt``: the prompt (or task)
    each battle was fought on, for prompt-level resampling. ``style_a``/``style_b``: raw style
    counts of each side's answer, columns in :data:`STYLE_FEATURES` order, for style control.
    """

    model_a: np.ndarray
    model_b: np.ndarray
    score_a: np.ndarray
    prompt: np.ndarray | None = None
    style_a: np.ndarray | None = None
    style_b: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.model_a)
        if len(self.model_b) != n or len(self.score_a) != n:
            raise ValueError("model_a, model_b and score_a must have one entry per battle")
        if self.prompt is not None and len(self.prompt) != n:
            raise ValueError("prompt must have one entry per battle")
        for side in (self.style_a, self.style_b):
            if side is not None and side.shape != (n, len(STYLE_FEATURES)):
                raise ValueError(f"style arrays must be (battles, {len(STYLE_FEATURES)})")
        if not np.isin(self.score_a, (0.0, 0.5, 1.0)).all():
            raise ValueError("score_a must be 1 (A wins), 0.5 (tie) or 0 (B wins)")

    def __len__(self) -> int:
        return len(self.model_a)

    @property
    def has_style(self) -> bool:
        return self.style_a is not None and self.style_b is not None

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, str, float]],
        prompts: Sequence[Hashable] | None = None,
    ) -> Battles:
        """Battles from ``(model_a, model_b, score_a)`` tuples."""
        listed = list(rows)
        model_a = np.array([row[0] for row in listed], dtype=object)
        model_b = np.array([row[1] for row in listed], dtype=object)
        score_a = np.array([row[2] for row in listed], dtype=float)
        prompt = None if prompts is None else np.array(list(prompts), dtype=object)
        return cls(model_a, model_b, score_a, prompt)


def is_verdict(label: object, normalize: bool = False) -> bool:
    """Whether ``label`` is a verdict arena-hard turns into a battle (else a failed game)."""
    return verdict_outcome(label, normalize) is not None


@dataclass(frozen=True)
class Game:
    """One judged (prompt, model) pair: the two verdicts, baseline shown first then second."""

    prompt: Hashable
    model: str
    verdicts: tuple[str | None, ...]


@dataclass(frozen=True)
class GameBattles:
    battles: Battles
    n_games: int
    n_failed_games: int


def battles_from_games(
    games: Iterable[Game],
    baseline: str,
    *,
    strong_weight: int = 3,
    first_game_only: bool = False,
    style: dict[str, dict[Hashable, np.ndarray]] | None = None,
    normalize: bool = False,
) -> GameBattles:
    """Arena-Hard's ``get_battles_from_row`` over every judged pair.

    ``games[i].verdicts[0]`` is the verdict with the baseline shown as A, ``verdicts[1]`` with
    the model shown as A. ``style``: raw style counts per model per prompt (see
    :func:`style_counts`); needed for style control, and then every battle must have both sides.
    ``normalize``: read the other spellings of :data:`NORMALIZED_VERDICTS` too (v0.1 drops them).
    """
    model_a: list[str] = []
    model_b: list[str] = []
    score_a: list[float] = []
    prompts: list[Hashable] = []
    style_rows_a: list[np.ndarray] = []
    style_rows_b: list[np.ndarray] = []
    n_games = n_failed = 0
    for game in games:
        verdicts = game.verdicts[:1] if first_game_only else game.verdicts[:2]
        for position, verdict in enumerate(verdicts):
            n_games += 1
            outcome = verdict_outcome(verdict, normalize)
            if outcome is None:
                n_failed += 1
                continue
            shown_first_score, strong = outcome
            # game 1 shows the baseline first; game 2 shows the model first
            baseline_score = shown_first_score if position == 0 else 1.0 - shown_first_score
            copies = strong_weight if strong else 1
            model_a.extend([baseline] * copies)
            model_b.extend([game.model] * copies)
            score_a.extend([baseline_score] * copies)
            prompts.extend([game.prompt] * copies)
            if style is not None:
                try:
                    counts_a = style[baseline][game.prompt]
                    counts_b = style[game.model][game.prompt]
                except KeyError as missing:
                    raise KeyError(
                        f"no style counts for {missing} (model {game.model!r} or baseline "
                        f"{baseline!r}, prompt {game.prompt!r})"
                    ) from None
                style_rows_a.extend([counts_a] * copies)
                style_rows_b.extend([counts_b] * copies)
    width = len(STYLE_FEATURES)
    battles = Battles(
        model_a=np.array(model_a, dtype=object),
        model_b=np.array(model_b, dtype=object),
        score_a=np.array(score_a, dtype=float),
        prompt=np.array(prompts, dtype=object),
        style_a=None if style is None else np.array(style_rows_a, dtype=float).reshape(-1, width),
        style_b=None if style is None else np.array(style_rows_b, dtype=float).reshape(-1, width),
    )
    return GameBattles(battles, n_games, n_failed)


_CODE_BLOCK = re.compile(r"```([^`]*)```")
_HEADER = [re.compile(rf"^#{{{level}}}\s", re.MULTILINE) for level in range(1, 7)]
_ORDERED_ITEM = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED_ITEM = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")


def style_counts(text: str, length: float | None = None) -> np.ndarray:
    """Arena-Hard's style counts of one answer: [length, headers, list items, bold spans].

    Markdown is counted after removing fenced code blocks, with arena-hard's regular
    expressions. ``length``: the answer's length in tokens as arena-hard uses it (tiktoken
    ``token_len``); characters are used when it is not given.
    """
    size = float(len(text)) if length is None else float(length)
    # arena-hard's remove_pattern: findall returns the group, so the fences themselves stay
    for block in _CODE_BLOCK.findall(text):
        text = text.replace(block, "")
    headers = sum(len(pattern.findall(text)) for pattern in _HEADER)
    lists = len(_ORDERED_ITEM.findall(text)) + len(_UNORDERED_ITEM.findall(text))
    bold = len(_BOLD_STARS.findall(text)) + len(_BOLD_UNDERSCORES.findall(text))
    return np.array([size, headers, lists, bold], dtype=float)
