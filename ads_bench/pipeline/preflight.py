"""Check a run's or an evaluation's whole configuration before its first paid call.

A mistake found after the answering step, or after acquisition, has already cost money and
left a run folder behind. :func:`preflight` resolves everything a command will need: the
suite, its judge configs, the strategy and learner, the model specs, the files named in the
config, and the policy's context window where the ICL learner must know it. It makes no model
call and writes nothing, and returns the configuration with its paths spelled canonically
(:func:`ads_bench.config.canonical_config`), so that the run folder and the digest do not depend
on how a path was typed.

``run_strategy`` and ``run_evaluation`` call it first, before ``RunFolder.open``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from ads_bench.config import canonical_config
from ads_bench.errors import UserError
from ads_bench.judging.configs import load_judge_config
from ads_bench.judging.engine import ORDER_MODES
from ads_bench.judging.programmatic import is_program_judge, parse_program_judge
from ads_bench.models.backend import backend_names
from ads_bench.models.spec import ModelSpec, parse_spec
from ads_bench.pipeline.lm_eval_scoring import is_lm_eval
from ads_bench.pipeline.prompts import prompts_of
from ads_bench.suites import Suite, load_suite

Config = TypeVar("Config")

#: backends that cannot tell their context window before a call: the spec must say it
WINDOWLESS_BACKENDS = ("http", "openai")


def preflight(config: Config) -> Config:
    """``config`` (a ``RunConfig`` or an ``EvalConfig``) checked and canonical, or one
    :class:`UserError` naming what to fix. No model call, nothing written."""
    config = canonical_config(config)
    is_run = hasattr(config, "strategy")
    if config.orders is not None and config.orders not in ORDER_MODES:  # None: the suite's protocol
        raise UserError(f"orders '{config.orders}' is unknown: use {', '.join(ORDER_MODES)}")
    if is_run:
        _check_run_settings(config)
    suite = load_suite(config.suite, limit=config.limit, seed=config.seed,
                       n_observed=getattr(config, "n_observed", None))
    if is_run:
        _check_grouping(config, suite)
        _check_observed_sets(config, suite)
    _check_judge_configs(config, suite)
    for role, spec in _model_specs(config):
        if role == "judge" and is_program_judge(spec):
            parse_program_judge(spec)  # a program checks answers against the truth: no model
            continue
        _check_spec(role, spec)
    if is_run and config.learner == "icl":
        _check_context_window(parse_spec(config.policy))
    _check_extras(config, is_run)
    return config


#: strategies whose calls may include Information Retrieval
RETRIEVING_STRATEGIES = ("rag", "oracle", "prompting", "ads", "ir-only")


def _check_extras(config: Any, is_run: bool) -> None:
    """Every optional part the command will use is installed (one line naming the extra)."""
    from ads_bench.extras import BACKEND_EXTRAS, require

    for role, spec in _model_specs(config):
        if role == "judge" and is_program_judge(spec):
            continue
        backend = parse_spec(spec).backend
        if backend in BACKEND_EXTRAS:
            require(BACKEND_EXTRAS[backend], f"the {role} '{spec}'")
    if is_run:
        if config.learner != "icl":
            require("train", f"the {config.learner} learner")
        if config.strategy in RETRIEVING_STRATEGIES:
            require("retrieval", f"the {config.strategy} strategy (it may call Information Retrieval)")


def _check_run_settings(config: Any) -> None:
    from ads_bench.acquisition.costs import CostModel
    from ads_bench.learning import get_learner
    from ads_bench.strategies import strategy_names
    from ads_bench.strategies.acquisition_setup import OPTIMIZER_FORMATS

    if config.strategy not in strategy_names():
        raise UserError(f"unknown strategy '{config.strategy}': choose one of {', '.join(strategy_names())}")
    get_learner(config.learner)  # unknown learner: its own one-line error
    from ads_bench.strategies.source_data import check_source_pairing

    check_source_pairing(config.strategy, config.learner)
    if config.optimizer_format not in OPTIMIZER_FORMATS:
        raise UserError(f"optimizer_format '{config.optimizer_format}' is unknown: use "
                        f"{' or '.join(OPTIMIZER_FORMATS)}")
    CostModel.from_file(config.api_costs)  # unreadable or unknown APIs: one line
    if config.corpus is not None:
        from ads_bench.acquisition.corpus import SHIPPED_CORPORA

        if config.corpus not in SHIPPED_CORPORA and not Path(config.corpus).exists():
            raise UserError(f"corpus {config.corpus} not found: give a JSONL/JSON/parquet file or one of "
                            f"{', '.join(SHIPPED_CORPORA)}")


def _check_grouping(config: Any, suite: Suite) -> None:
    from ads_bench.suites.grouping import GROUPINGS

    if config.grouping not in GROUPINGS:
        raise UserError(f"grouping '{config.grouping}' is unknown: use {' or '.join(GROUPINGS)}")
    in_house = not any(task.references for task in suite.tasks)
    if config.grouping == "random" and not in_house:
        raise UserError("random grouping re-deals in-house instructions: use it with an in-house suite")


#: strategies that send nothing a task observed: no observed set needed
OBSERVING_NOTHING = ("none", "source-finetune", "oracle")


def _check_observed_sets(config: Any, suite: Suite) -> None:
    """A public-benchmark task whose observed set was never built refuses to acquire; find it
    before the first task acquires, not when its turn comes."""
    if config.strategy in OBSERVING_NOTHING:
        return
    from ads_bench.suites.held_out_guard import check_observed_ready

    for task in suite.tasks:
        check_observed_ready(task)


def _check_judge_configs(config: Any, suite: Suite) -> None:
    """Load every judge config the judging step will use (the forced one, or each prompt's own)."""
    if is_lm_eval(suite):  # lm-eval's own metrics grade these; no judge
        return
    names = {config.judge_config} if config.judge_config else {p.judge for p in prompts_of(suite.tasks)}
    for name in sorted(names):
        load_judge_config(name)


def _model_specs(config: Any) -> Iterable[tuple[str, str]]:
    from ads_bench.strategies import OPTIMIZER_STRATEGIES
    from ads_bench.strategies.optimizer_specs import trained_optimizer

    for role, field in (("policy", "policy"), ("policy", "model"), ("expert", "expert"), ("judge", "judge")):
        if isinstance(getattr(config, field, None), str):
            yield role, getattr(config, field)
    optimizer = getattr(config, "optimizer", None)
    if optimizer and config.strategy in OPTIMIZER_STRATEGIES:
        yield "optimizer", trained_optimizer(optimizer)  # an adapter folder means its spec


def _check_spec(role: str, spec: str) -> None:
    parsed = parse_spec(spec)
    if parsed.backend not in backend_names():
        raise UserError(f"the {role} '{spec}' needs a backend named '{parsed.backend}', which is not "
                        f"installed: known are {', '.join(backend_names())}")


def _check_context_window(policy: ModelSpec) -> None:
    """The ICL learner packs acquired data into the policy's context window; an HTTP server does
    not say how large it is, so its spec must, before acquisition spends anything."""
    if policy.backend in WINDOWLESS_BACKENDS and "context_window" not in policy.options:
        raise UserError(
            f"the context window of policy '{policy.label}' is unknown: add ?context_window=N "
            "to its spec (the ICL learner packs acquired data into it)"
        )
