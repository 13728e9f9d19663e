"""One configuration object per command, from defaults < a YAML file < flags given on the line.

A config file holds the same keys as the command's flags (dashes or underscores), e.g.::

    strategy: ads
    suite: inhouse
    policy: http://127.0.0.1:8000/v1::Qwen2-7B-Instruct
    judge: openai:gpt-4o-mini
    learner: icl
    limit: 100
    budget_usd: 0.5
"""

from __future__ import annotations

import dataclasses
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
    return cls(**values)
