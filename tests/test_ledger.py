"""The ledger sums calls, cache hits, tokens, seconds and dollars per role, model and API."""

import pytest

from ads_bench.errors import UserError
from ads_bench.models.ledger import Ledger, Price, PriceTable, api_scope
from ads_bench.models.types import CallRecord


def test_prices_match_exactly_then_by_longest_prefix():
    table = PriceTable.default()
    assert table.lookup("gpt-4o-mini") == Price(0.15, 0.60)
    assert table.lookup("gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert table.lookup("gpt-4o-2024-08-06") == Price(2.50, 10.00)
    assert table.lookup("my-local-model") is None


def test_a_price_file_overrides_and_extends(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text("gpt-4o-mini: {input: 1.0, output: 2.0}\nmine: {input: 3, output: 4}\n")
    table = PriceTable.default(path)
    assert table.lookup("gpt-4o-mini") == Price(1.0, 2.0)
    assert table.lookup("mine").cost(1_000_000, 500_000) == pytest.approx(5.0)


def test_a_malformed_price_file_is_a_user_error(tmp_path):
    path = tmp_path / "prices.yaml"
    path.write_text("gpt-4o-mini: 0.15\n")
    with pytest.raises(UserError, match="input"):
        PriceTable.default(path)


def test_calls_hits_and_failures_are_counted_apart():
    ledger = Ledger()
    ledger.record(role="judge", model="m", call=CallRecord(100, 10, 1.5), cost_usd=0.01)
    ledger.record(role="judge", model="m", call=CallRecord(100, 10, 0.0, cached=True), cost_usd=0.01)
    ledger.record(role="judge", model="m", call=CallRecord(0, 0, 0.2, failed=True), cost_usd=0.0)
    total = ledger.total(role="judge")
    assert (total.calls, total.cache_hits, total.failures) == (2, 1, 1)
    assert (total.prompt_tokens, total.completion_tokens) == (100, 10)
    assert total.cost_usd == pytest.approx(0.01) and total.saved_usd == pytest.approx(0.01)


def test_api_scope_labels_model_calls_and_groups_by_api():
    ledger = Ledger()
    with api_scope("question_answering"):
        ledger.record(role="expert", model="big", call=CallRecord(10, 20, 1.0), cost_usd=0.5)
    ledger.record(role="policy", model="small", call=CallRecord(5, 5, 0.1), cost_usd=0.0)
    ledger.record_fee(api="information_retrieval", cost_usd=0.001)
    by_api = ledger.grouped("api")
    assert by_api["question_answering"].cost_usd == 0.5
    assert by_api["information_retrieval"].calls == 1
    assert by_api["-"].calls == 1
    assert set(ledger.grouped("role")) == {"expert", "policy", "acquisition"}


def test_since_gives_what_was_spent_after_a_snapshot_and_json_round_trips():
    ledger = Ledger()
    ledger.record(role="policy", model="m", call=CallRecord(1, 1, 0.1), cost_usd=0.0)
    before = ledger.snapshot()
    ledger.record(role="policy", model="m", call=CallRecord(2, 3, 0.1), cost_usd=0.0)
    delta = ledger.since(before).total()
    assert (delta.calls, delta.prompt_tokens, delta.completion_tokens) == (1, 2, 3)
    again = Ledger.from_json(ledger.to_json())
    assert again.total().tokens == ledger.total().tokens == 7


def test_the_end_of_run_table_says_what_this_execution_spent_what_the_run_costs_and_each_retry():
    from rich.console import Console

    from ads_bench.cli.tables import ledger_table

    ledger = Ledger()
    ledger.record(role="judge", model="m", call=CallRecord(100, 10, 1.0), cost_usd=0.01)
    ledger.record_retry(role="judge", model="m", cause="429")
    ledger.record_retry(role="judge", model="m", cause="malformed")
    run_cost = {"run_usd": 0.25, "run_calls": 30, "run_tokens": 9000, "run_api_fees": 4,
                "unconfirmed_calls": 2, "unconfirmed_usd": 0.002, "unconfirmed_unpriced": 0}
    console = Console(width=200, record=True)
    console.print(ledger_table(ledger, "this execution spent", run_cost))
    text = console.export_text()
    assert "this execution spent" in text and "retries" in text
    assert "judge 429 ×1, malformed ×1" in text
    assert "the run costs $0.2500: 30 model calls" in text and "cached or not" in text
    assert "unconfirmed: 2 calls" in text
