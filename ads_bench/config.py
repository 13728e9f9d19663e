"""One configuration object per command, from defaults < a YAML file < flags given on the line.

A config file holds the same keys as the command's flags (dashes or underscores), e.g.::

    strategy: ads
    suite: inhouse
    policy: http://127.0.0.1:8000/v1::Qwen2-7B-Instruct
    judge: openai:gpt-4o-mini
    learner: icl
    limit: 100
    budget_usd: 0.5

A configuration's identity (its digest, hence its run folder) must not depend on how a path was
spelled: :func:`canonical_config` gives every path-valued field one spelling. Built-in names
(``inhouse``, ``alpaca_eval_2``, ``wiki-vital-level4``) stay names, also when a path names their
file; other files become absolute paths with symlinks resolved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from click.core import ParameterSource

from ads_bench.errors import UserError

T = TypeVar("T")


def read_config_file(path: str | Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as exc:
        raise UserError(f"config file {path} not found: check the --config path") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must be a mapping of option: value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def build_config(cls: type[T], ctx: click.Context, params: dict[str, Any], config_file: str | None) -> T:
    """``cls`` from its defaults, then the file, then the flags the user actually typed."""
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    if config_file:
        from_file = read_config_file(config_file)
        unknown = sorted(set(from_file) - names)
        if unknown:
            raise UserError(f"unknown keys {unknown} in {config_file}: use {', '.join(sorted(names))}")
        values.update(from_file)
        if str(values.get("limit", "")).lower() == "all":  # as on the command line: every task
            values["limit"] = None
    for name, value in params.items():
        if name not in names:
            continue
        typed = ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
        if typed or name not in values:
            values[name] = value
    missing = [f.name for f in dataclasses.fields(cls)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               and values.get(f.name) is None]
    if missing:
        raise UserError(f"missing {', '.join('--' + m.replace('_', '-') for m in missing)} (flag or config file)")
    return canonical_config(cls(**values))


def canonical_file(value: str) -> str:
    """An existing file's one spelling (absolute, symlinks resolved); anything else as given."""
    path = Path(value).expanduser()
    return str(path.resolve()) if path.exists() else value


def canonical_suite(value: str) -> str:
    from ads_bench.suites._registry import canonical_suite as suite_name

    return suite_name(value)


def canonical_judge_config(value: str) -> str:
    """A built-in judge by name stays its name, and so does a path to its file."""
    from ads_bench.judging.configs import BUILTIN_DIR

    if (BUILTIN_DIR / f"{value}.yaml").is_file():
        return value
    path = Path(canonical_file(value))
    if path.is_absolute() and path.parent == BUILTIN_DIR.resolve():
        return path.stem
    return str(path)


def canonical_corpus(value: str) -> str:
    from ads_bench.acquisition.corpus import SHIPPED_CORPORA

    return value if value in SHIPPED_CORPORA else canonical_file(value)


def canonical_spec(value: str) -> str:
    """A model spec with its weights and adapter paths absolute (``hf:``, ``gguf:``, ``vllm:``,
    ``?adapter=``, ``?lora=``); server URLs and model names are left alone."""
    from ads_bench.strategies.optimizer_specs import absolute_paths

    return absolute_paths(value)


#: config fields that name files, and how each is spelled canonically
PATH_FIELDS: dict[str, Callable[[str], str]] = {
    "suite": canonical_suite,
    "judge_config": canonical_judge_config,
    "corpus": canonical_corpus,
    "api_costs": canonical_file,
    "policy": canonical_spec,
    "model": canonical_spec,
    "expert": canonical_spec,
    "judge": canonical_spec,
    "optimizer": canonical_spec,
}


def canonical_config(config: T) -> T:
    """``config`` (a dataclass) with every path-valued field spelled one way, so the same
    configuration reached through ``tasks/x.yaml``, ``./tasks/x.yaml`` or an absolute path has
    one digest and one run folder. Idempotent."""
    changes = {
        name: canonical(value)
        for name, canonical in PATH_FIELDS.items()
        if isinstance(value := getattr(config, name, None), str)
    }
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]
