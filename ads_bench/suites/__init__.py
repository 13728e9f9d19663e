"""Task suites: where the target tasks come from.

A :class:`Suite` yields :class:`Task` s. Suites come from YAML files in ``tasks/`` (the
built-ins: ``alpacaeval``, ``arena-hard``, ``mt-bench``, ``mt-bench-fixed-refs``, ``inhouse``,
``inhouse-train``), from Python (:func:`register_suite`), from entry points in the group
``ads_bench.suites``, and from the ``lm-eval:<task>`` family (lm-evaluation-harness tasks on
local data).

    >>> from ads_bench.suites import load_suite
    >>> suite = load_suite("mt-bench")
    >>> len(suite), suite.tasks[0].turns[0][1][:20]
"""

from __future__ import annotations

from ads_bench.suites._registry import (
    ENTRY_POINT_GROUP,
    load_suite,
    register_family,
    register_suite,
    suite_entries,
    suite_names,
    suite_table,
    unregister_suite,
)
from ads_bench.suites._split import split_instructions, stable_seed
from ads_bench.suites._task import (
    META_CLUSTER,
    META_JUDGE_MODE,
    META_REFERENCE_FLAGGED,
    META_REFERENCE_GUIDED,
    META_REFERENCE_MODEL,
    Suite,
    Task,
    read_tasks_jsonl,
    write_tasks_jsonl,
)
from ads_bench.suites.yaml_spec import load_spec
from ads_bench.suites.yaml_suite import load_suite_file, validate_suite_file


def _load_lm_eval(
    argument: str, *, seed: int | None = None, n_observed: int | None = None
) -> Suite:
    # imported on use: lm-eval and datasets are heavy and optional
    from ads_bench.suites.lm_eval_suite import load_lm_eval_suite

    return load_lm_eval_suite(argument, seed=seed, n_observed=n_observed)


register_family(
    "lm-eval",
    _load_lm_eval,
    "any lm-evaluation-harness task whose data is on disk (lm-eval:<task>[@PATH])",
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "META_CLUSTER",
    "META_JUDGE_MODE",
    "META_REFERENCE_FLAGGED",
    "META_REFERENCE_GUIDED",
    "META_REFERENCE_MODEL",
    "Suite",
    "Task",
    "load_spec",
    "load_suite",
    "load_suite_file",
    "read_tasks_jsonl",
    "register_family",
    "register_suite",
    "split_instructions",
    "stable_seed",
    "suite_entries",
    "suite_names",
    "suite_table",
    "unregister_suite",
    "validate_suite_file",
    "write_tasks_jsonl",
]
