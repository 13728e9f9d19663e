"""The data side of the lm-evaluation-harness bridge: ``lm-eval:<task>`` suites.

lm-eval task YAMLs name Hugging Face datasets, which are not reachable offline. The bridge
keeps lm-eval's own task definition (prompt template, target, filters, metrics) and swaps
only the data source for files on disk, found in this order:

1. ``lm-eval:<task>@PATH`` — PATH is a data file (the evaluation split) or a folder;
2. ``$ADS_BENCH_LM_EVAL_DATA/<task>/``;
3. ``tasks/data/lm_eval/<task>/``.

A folder holds one file per split named as the task's YAML names its splits
(``test.jsonl``, ``train.jsonl``, ``validation.parquet`` ...) or is a ``datasets``
``save_to_disk`` folder. Each document of the evaluation split becomes one :class:`Task`
(one prompt, like the public benchmarks); :meth:`LmEvalSuite.score` grades an answer with the
task's own filters and ``process_results``, so numbers match lm-eval's.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ads_bench import paths
from ads_bench.errors import MissingExtra, UserError
from ads_bench.suites._records import read_records
from ads_bench.suites._split import stable_seed
from ads_bench.suites._task import META_JUDGE_MODE, Suite, Task

DATA_ENV = "ADS_BENCH_LM_EVAL_DATA"
DATA_EXTENSIONS = (".jsonl", ".json", ".jsonl.gz", ".json.gz", ".parquet", ".csv")
# `task: name` at the start of a line, key and value optionally quoted; not `task:` + list
_TASK_LINE = re.compile(
    r"""^["']?task["']?[ \t]*:[ \t]*["']?([A-Za-z0-9_.\-]+)["']?[ \t]*(?:#.*)?$""", re.M
)
_TEMPLATE_FIELD = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)")


def _lm_eval():
    try:
        import lm_eval  # noqa: F401
    except ImportError as exc:
        raise MissingExtra("lm-eval", "lm-eval", "lm-eval suites") from exc
    import lm_eval

    return lm_eval


@functools.lru_cache(maxsize=1)
def _task_yaml_index() -> dict[str, Path]:
    """task name -> YAML file, by a text scan of lm-eval's task folder (about 1 s for ~14k
    files; lm-eval's own TaskManager parses every YAML and takes ~25 s here)."""
    root = Path(_lm_eval().__file__).parent / "tasks"
    index: dict[str, Path] = {}
    for path in sorted(root.rglob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8", errors="ignore")
        except OSError:
            continue
        for name in _TASK_LINE.findall(text):
            index.setdefault(name, path)
    return index


def _task_config(task_name: str) -> dict[str, Any]:
    path = _task_yaml_index().get(task_name)
    if path is None:
        close = sorted(n for n in _task_yaml_index() if task_name.lower() in n.lower())[:8]
        hint = f" (close: {', '.join(close)})" if close else ""
        raise UserError(
            f"unknown lm-eval task {task_name!r}{hint}: name a single task (groups such as 'mmlu' "
            "are not supported; name a subtask such as 'mmlu_abstract_algebra')"
        )
    from lm_eval.tasks._yaml_loader import load_yaml

    config = dict(load_yaml(path, resolve_func=True))
    for key in (
        "tag",
        "group",
        "task_list",
    ):  # structural keys, as lm-eval's TaskFactory drops them
        config.pop(key, None)
    config["task"] = task_name
    return config


def _split_names(config: Mapping[str, Any]) -> dict[str, str]:
    """role -> split name for the splits the task's YAML uses."""
    names = {}
    for role in ("test_split", "validation_split", "training_split", "fewshot_split"):
        if config.get(role):
            names[role] = str(config[role])
    return names


def _template_fields(config: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("doc_to_text", "doc_to_target", "doc_to_choice"):
        value = config.get(key)
        if isinstance(value, str):
            found += [f for f in _TEMPLATE_FIELD.findall(value) if f not in found]
    return found


def _data_location(task_name: str, explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser() / task_name
    return paths.tasks_dir() / "data" / "lm_eval" / task_name


def _find_split_file(folder: Path, split: str) -> Path | None:
    for ext in DATA_EXTENSIONS:
        candidate = folder / f"{split}{ext}"
        if candidate.is_file():
            return candidate
    return None


def _load_local_dataset(task_name: str, config: Mapping[str, Any], location: Path):
    import datasets

    splits = _split_names(config)
    eval_split = splits.get("test_split") or splits.get("validation_split")
    if eval_split is None:
        raise UserError(
            f"lm-eval task {task_name!r} names no test or validation split; it cannot be a suite"
        )

    def missing() -> UserError:
        fields = ", ".join(_template_fields(config)) or "see the task's YAML"
        wanted = f"{eval_split}.jsonl (fields: {fields})"
        hub = config.get("dataset_path", "?")
        return UserError(
            f"lm-eval task {task_name!r} reads {hub!r} from the Hugging Face hub, which is not reachable "
            f"here, and its data is not on disk at {location}: put {wanted} there, set {DATA_ENV} to a "
            f"folder holding {task_name}/{eval_split}.jsonl, or name the data as 'lm-eval:{task_name}@PATH'"
        )

    if location.is_file():
        return datasets.DatasetDict(
            {eval_split: datasets.Dataset.from_list(read_records(location))}
        )
    if not location.is_dir():
        raise missing()
    if (location / "dataset_dict.json").is_file() or (location / "dataset_info.json").is_file():
        loaded = datasets.load_from_disk(str(location))
        if isinstance(loaded, datasets.Dataset):
            loaded = datasets.DatasetDict({eval_split: loaded})
        if eval_split not in loaded:
            raise UserError(
                f"{location} has splits {sorted(loaded)}, but task {task_name!r} evaluates on {eval_split!r}"
            )
        return loaded
    found = {}
    for split in dict.fromkeys(splits.values()):
        file = _find_split_file(location, split)
        if file is not None:
            found[split] = datasets.Dataset.from_list(read_records(file))
    if eval_split not in found:
        raise missing()
    return datasets.DatasetDict(found)


def _build_lm_eval_task(task_name: str, data_location: Path):
    _lm_eval()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from lm_eval.api.task import ConfigurableTask

    config = _task_config(task_name)
    dataset = _load_local_dataset(task_name, config, data_location)
    config["custom_dataset"] = lambda **_: dataset
    config.pop("dataset_kwargs", None)
    # lm-eval warns on every custom dataset that kwargs can come from --metadata: not our case
    task_logger = logging.getLogger("lm_eval.api.task")
    level = task_logger.level
    task_logger.setLevel(logging.ERROR)
    try:
        cls = config.pop("class", None)
        return cls(config=config) if cls is not None else ConfigurableTask(config=config)
    finally:
        task_logger.setLevel(level)


def _target_text(lm_task: Any, doc: Mapping[str, Any]) -> str:
    target = lm_task.doc_to_target(doc)
    if isinstance(target, int) and lm_task.config.doc_to_choice is not None:
        choices = lm_task.doc_to_choice(doc)
        if 0 <= target < len(choices):
            return str(choices[target])
    if isinstance(target, list):
        return str(target[0]) if target else ""
    return str(target)


@dataclass(frozen=True)
class LmEvalSuite(Suite):
    """An lm-eval task's documents as tasks, with lm-eval's own scoring."""

    task_name: str = ""
    lm_task: Any = field(default=None, compare=False, repr=False)
    docs: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def output_type(self) -> str:
        return str(self.lm_task.OUTPUT_TYPE)

    @property
    def generation_kwargs(self) -> dict[str, Any]:
        """What lm-eval would generate with (``until`` stop strings, ``max_gen_toks`` ...)."""
        return dict(self.lm_task.config.generation_kwargs or {})

    def doc(self, task: Task) -> Mapping[str, Any]:
        return self.docs[int(task.metadata["doc_index"])]

    def score(self, task: Task, answer: str) -> dict[str, float]:
        """Grade one generated answer as lm-eval would: every filter pipeline of the task
        (e.g. gsm8k's ``strict-match`` and ``flexible-extract``), then its ``process_results``.
        Keys are ``metric,filter`` as in lm-eval's results table."""
        if self.output_type != "generate_until":
            raise UserError(
                f"lm-eval task {self.task_name!r} is {self.output_type} (scored from log-likelihoods, "
                "not from a generated answer): score() grades generate_until tasks"
            )
        from lm_eval.api.instance import Instance

        doc = self.doc(task)
        scores: dict[str, float] = {}
        for ensemble in self.lm_task._filters:  # lm-eval keeps its filter pipelines here
            instance = Instance(request_type="generate_until", doc=doc, arguments=("", {}), idx=0)
            instance.resps = [answer]
            ensemble.apply([instance])
            results = self.lm_task.process_results(doc, [instance.filtered_resps[ensemble.name]])
            for metric, value in results.items():
                scores[f"{metric},{ensemble.name}"] = float(value)
        return scores


#: observed prompts per task when no training split is asked for (as the public suites: 3)
DEFAULT_OBSERVED = 3


def _other_prompts(prompts: list[str], index: int, rng: random.Random) -> tuple[str, ...]:
    """Up to :data:`DEFAULT_OBSERVED` distinct prompts of other documents, none equal to or
    containing document ``index``'s own."""
    from ads_bench.suites.held_out_guard import leaked_prompt

    own = prompts[index]
    candidates = [i for i in range(len(prompts)) if i != index]
    rng.shuffle(candidates)
    chosen: list[str] = []
    for i in candidates:
        text = prompts[i]
        if text != own and text not in chosen and leaked_prompt(text, (own,)) is None:
            chosen.append(text)
            if len(chosen) == DEFAULT_OBSERVED:
                break
    return tuple(chosen)


def load_lm_eval_suite(
    argument: str, *, seed: int | None = None, n_observed: int | None = None
) -> LmEvalSuite:
    """``lm-eval:<task>[@PATH]``. A task's own prompt is held out only. With ``n_observed`` = k,
    each task observes k prompts drawn (seeded) from the task's training/few-shot split; without
    it, :data:`DEFAULT_OBSERVED` other documents of the same evaluation split, drawn (seeded) per
    task. Each task teaches its own policy, which answers only its own prompt, so another task's
    prompt among the observed ones is not the prompt it is scored on (the held-out guard checks
    exactly that)."""
    task_name, _, explicit = argument.partition("@")
    task_name = task_name.strip()
    location = _data_location(task_name, explicit or None)
    lm_task = _build_lm_eval_task(task_name, location)
    docs = tuple(lm_task.eval_docs)
    if not docs:
        raise UserError(f"lm-eval task {task_name!r}: the evaluation split at {location} is empty")
    pool: list[str] = []
    if n_observed:
        train_docs = (
            lm_task.fewshot_docs()
            if lm_task.has_training_docs() or lm_task.config.fewshot_split
            else None
        )
        if not train_docs:
            raise UserError(
                f"n_observed={n_observed} draws observed prompts from {task_name!r}'s training split, "
                f"which is not on disk at {location}: add it, or leave n_observed unset"
            )
        pool = [str(lm_task.doc_to_text(d)) for d in train_docs]
        if len(pool) < n_observed:
            raise UserError(
                f"{task_name!r}'s training split has {len(pool)} prompts, fewer than n_observed={n_observed}"
            )
    seed = 0 if seed is None else seed
    eval_prompts = [str(lm_task.doc_to_text(d)) for d in docs]
    tasks = []
    for index, doc in enumerate(docs):
        prompt = lm_task.doc_to_text(doc)
        if not isinstance(prompt, str):
            prompt = str(prompt)
        rng = random.Random(stable_seed(seed, task_name, index))
        if pool:
            observed = tuple(rng.sample(pool, n_observed or 0))
        elif n_observed == 0:
            observed = ()
        else:
            observed = _other_prompts(eval_prompts, index, rng)
        tasks.append(
            Task(
                id=str(index),
                suite=f"lm-eval:{task_name}",
                category=task_name,
                observed=observed,
                held_out=(prompt,),
                references=((_target_text(lm_task, doc),),),
                metadata={
                    "doc_index": index,
                    "lm_eval_task": task_name,
                    "output_type": lm_task.OUTPUT_TYPE,
                    "scored_by": "lm-eval",
                    META_JUDGE_MODE: "single",
                },
            )
        )
    return LmEvalSuite(
        f"lm-eval:{task_name}",
        tuple(tasks),
        kind="lm-eval",
        source=f"lm-eval {getattr(_lm_eval(), '__version__', '?')} task {task_name}; data {location}",
        description=f"lm-evaluation-harness task {task_name} on local data",
        metadata={"seed": seed, "n_observed": n_observed, "data": str(location)},
        task_name=task_name,
        lm_task=lm_task,
        docs=docs,
    )
