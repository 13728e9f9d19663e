"""``ads-bench report``: one self-contained HTML file; data escaped; plots present; a real browser
renders it (headless Chromium, skipped where it is not installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ads_bench.cli import main
from ads_bench.errors import UserError
from ads_bench.reporting.report import build_report, write_report

RUNS = Path(__file__).parent / "data" / "runs"
PLANTED = json.loads((RUNS / "rule-qa-inhouse" / "answers.jsonl").read_text().splitlines()[0])["answers"][0]


class Elements(HTMLParser):
    """Tags, their attributes and the text inside <figure> elements, as a browser's parser sees them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.figures: dict[str, list[str]] = {}  # figure id -> tags inside it
        self._open_figure: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag == "figure":
            self._open_figure = attributes.get("id", "")
            self.figures[self._open_figure] = []
        elif self._open_figure is not None:
            self.figures[self._open_figure].append(tag)

    def handle_endtag(self, tag):
        if tag == "figure":
            self._open_figure = None

    def named(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def results_report() -> str:
    return build_report(RUNS)


def test_model_output_is_escaped_never_markup(results_report):
    assert PLANTED.startswith("<script>")
    assert PLANTED not in results_report
    escaped = "&lt;script&gt;document.title = &quot;pwned&quot;&lt;/script&gt;&lt;img src=x onerror="
    assert escaped in results_report
    elements = Elements(results_report)
    assert len(elements.named("script")) == 1  # the page's own filter script, nothing from the data
    assert not [attrs for attrs in elements.named("img")]
    assert "diet &amp; nutrition" in results_report  # category names too


def test_results_report_has_overview_and_per_run_figures(results_report):
    figures = Elements(results_report).figures
    expected = [
        "plot-score-cost",
        "plot-api-mix--rule-qa-inhouse", "plot-categories--rule-qa-inhouse",
        "plot-categories--mt-bench-eval", "plot-api-mix--ads-partial",
        "plot-training--train-smoke", "plot-iteration-api-share--train-smoke",
    ]
    for plot_id in expected:
        assert plot_id in figures, plot_id
        assert "svg" in figures[plot_id] and "figcaption" in figures[plot_id], plot_id
    assert 'class="plot plot-api-mix"' in results_report


def test_a_single_run_report_uses_plain_plot_ids():
    figures = Elements(build_report(RUNS / "rule-qa-inhouse")).figures
    assert {"plot-api-mix", "plot-categories"} <= set(figures)


def test_browser_walks_task_trajectory_items_answers_judgments():
    page = build_report(RUNS / "rule-qa-inhouse")
    for text in (
        "inhouse-00000",  # task
        "unknown api: web_search",  # a dropped call and its reason
        "Question 0 about inhouse-00000?",  # a call's argument
        "Expert answer 0 for inhouse-00000.",  # an acquired item
        "Taught answer to inhouse-00001#0.", "Un-updated answer to inhouse-00001#0.",  # both answers
        "un-updated policy",
        "P(win) 0.8",  # a preference
        "I cannot decide.", "judgment failed",  # the raw output of the judgment that failed
    ):
        assert text in page, text


def test_an_incomplete_run_shows_what_it_logged():
    page = build_report(RUNS / "ads-partial")
    assert "incomplete" in page and "no metrics.json" in page
    assert "The policy tends to ramble" in page  # its self-reflection
    assert "over budget: max_calls 2" in page and "not judged" in page


def test_a_train_report_shows_iterations_and_samples():
    page = build_report(RUNS / "train-smoke")
    figures = Elements(page).figures
    assert {"plot-training", "plot-iteration-api-share"} <= set(figures)
    assert "iteration 1 · inhouse-00001" in page and "chosen 1 / rejected 0" in page


def test_scaling_curves_appear_when_runs_differ_in_a_swept_setting(tmp_path):
    for budget in (2, 4, 8):
        folder = tmp_path / f"rule-qa-{budget}"
        shutil.copytree(RUNS / "rule-qa-inhouse", folder)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "budget_items": budget}))
    page = build_report(tmp_path)
    assert "plot-scaling-budget_items" in Elements(page).figures
    assert "plot-scaling-max_calls" not in page  # the same in every run: no curve


def test_the_page_fetches_nothing(results_report):
    elements = Elements(results_report)
    assert not elements.named("link") and not elements.named("iframe")
    assert not [a for _, a in elements.tags if "src" in a]
    assert not [a for _, a in elements.tags if a.get("href", "#").split(":")[0] in ("http", "https")]
    assert "@import" not in results_report and "url(http" not in results_report


def test_write_report_defaults_into_the_folder_and_refuses_a_folder_as_out(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(RUNS / "none-inhouse", folder)
    written = write_report(folder)
    assert written == folder / "report.html" and written.read_text().startswith("<!doctype html>")
    with pytest.raises(UserError, match="is a folder"):
        write_report(folder, tmp_path)


def test_max_tasks_caps_the_browser_and_says_so():
    page = build_report(RUNS / "rule-qa-inhouse", max_tasks=2)
    assert "inhouse-00001" in page and "inhouse-00002#0" not in page
    assert "4 more task(s) not shown" in page


def test_cli_writes_the_report_and_rejects_a_missing_folder(tmp_path, capsys):
    out = tmp_path / "r.html"
    main(["report", str(RUNS / "mt-bench-eval"), "--out", str(out)])
    assert out.is_file() and "MT-Bench" in out.read_text()
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path / "missing")])
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# -- headless Chromium --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="ads-bench-chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1280,2000", *args],
            capture_output=True, text=True, timeout=120,
        )


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_chromium_renders_the_report_with_its_plots(tmp_path):
    from matplotlib import image

    report = write_report(RUNS, tmp_path / "report.html")
    url = report.resolve().as_uri()
    screenshot = tmp_path / "screenshot.png"
    chromium(f"--screenshot={screenshot}", url)
    assert screenshot.is_file(), "Chromium wrote no screenshot"
    pixels = image.imread(str(screenshot))
    assert pixels.shape[:2] == (2000, 1280)
    colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 50, "the screenshot is (nearly) one colour: nothing rendered"
    if os.environ.get("ADS_BENCH_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["ADS_BENCH_SCREENSHOT"])

    dom = chromium("--dump-dom", url).stdout
    rendered = Elements(dom)
    for plot_id in ("plot-score-cost", "plot-api-mix--rule-qa-inhouse", "plot-training--train-smoke"):
        assert "svg" in rendered.figures.get(plot_id, []), plot_id
    assert len(rendered.named("svg")) >= 7
    # the planted script did not run: it stayed text, and the title is ours
    assert "pwned" not in dom.split("<title>")[1].split("</title>")[0]
    assert "&lt;script&gt;document.title" in dom


def test_the_report_says_which_cost_figure_its_ledger_shows_and_what_was_lost_or_retried():
    from ads_bench.reporting.report import ledger_caption

    caption = ledger_caption({
        "label": "the run costs", "spent": {"total": {"cost_usd": 0.5}},
        "unconfirmed": {"calls": 3, "usd_estimate": 0.01},
        "retries": [{"cause": "5xx", "count": 2}, {"cause": "malformed", "count": 1}, {"cause": "5xx", "count": 1}],
    })
    assert caption == ("the run costs; spent over all sessions $0.5000; 3 unconfirmed calls in flight at a kill "
                       "(about $0.0100); retries 5xx 3, malformed 1")
