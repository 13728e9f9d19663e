"""The report's browser: task -> trajectory (analysis, self-reflection, calls, dropped calls and
why) -> acquired items -> answers (taught vs un-updated policy) -> judgments (preference,
verdicts, raw judge outputs); for a train folder, its samples per iteration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from ads_bench.reporting.html import (
    badge,
    browser,
    details,
    esc,
    join,
    table,
    tag,
    text_block,
)
from ads_bench.reporting.run_data import RunData


def number_text(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def trajectory_block(trajectory: dict[str, Any] | None) -> Markup:
    if not trajectory:
        return tag("p", "no trajectory (a fixed strategy, or none logged)", class_="muted")
    parts = []
    if trajectory.get("error"):
        parts.append(tag("p", badge("trajectory error", "error") + esc(" " + str(trajectory["error"]))))
    for key, label in (("analysis", "analysis"), ("self_reflection", "self-reflection")):
        if trajectory.get(key):
            parts.append(tag("h4", label) + text_block(trajectory[key]))
    calls = trajectory.get("calls") or []
    parts.append(tag("h4", f"calls ({len(calls)})"))
    if calls:
        parts.append(table(["#", "api", "arguments"], [[c.get("position"), c.get("api"),
                                                        text_block(c.get("args", {}))] for c in calls]))
    dropped = trajectory.get("dropped") or []
    if dropped:
        parts.append(tag("h4", f"dropped calls ({len(dropped)})"))
        parts.append(table(["#", "reason", "as written"], [[d.get("position"), d.get("reason"),
                                                           text_block(d.get("raw_call"))] for d in dropped]))
    if trajectory.get("raw"):
        parts.append(details("optimizer's raw output", text_block(trajectory["raw"])))
    return join(parts)


def outcomes_block(outcomes: Sequence[dict[str, Any]]) -> Markup:
    if not outcomes:
        return tag("p", "no data acquired", class_="muted")
    blocks = []
    for outcome in outcomes:
        call = outcome.get("call", {})
        items = outcome.get("items", [])
        head = (f"call #{call.get('position')} {call.get('api')} — {len(items)} item(s), "
                f"${outcome.get('cost_usd', 0.0):.4f}")
        body = [text_block(call.get("args", {}))]
        if outcome.get("error"):
            body.append(tag("p", badge("error", "error") + esc(" " + str(outcome["error"]))))
        for item in items:
            body.append(tag("h4", f"{item.get('kind')}: {item.get('prompt') or ''}"))
            body.append(text_block(item.get("content", "")))
        blocks.append(details(head, join(body)))
    return join(blocks)


def preference_badge(record: dict[str, Any] | None) -> Markup:
    if record is None:
        return badge("not judged")
    if record.get("failed") or (record.get("preference") is None and record.get("score") is None):
        return badge("judgment failed", "error")
    if "score" in record and "preference" not in record:
        return badge(f"grade {record['score']}")
    preference = float(record["preference"])
    kind = "win" if preference > 0.5 else "loss" if preference < 0.5 else ""
    return badge(f"P(win) {preference:.2f}", kind)


def attempts_block(attempts: Sequence[dict[str, Any]]) -> Markup:
    def parsed(attempt: dict[str, Any]) -> str:
        value = attempt.get("value")
        number = f"{value:.3f}" if isinstance(value, float) else "" if value is None else str(value)
        return " ".join(str(part) for part in (attempt.get("label"), number and f"({number})") if part) or "–"

    rows = [[parsed(a), a.get("source"), a.get("reason") or a.get("error") or "", text_block(a.get("raw", ""))]
            for a in attempts]
    return table(["parsed", "from", "problem", "raw judge output"], rows) if rows else Markup("")


def judgment_block(record: dict[str, Any] | None) -> Markup:
    if record is None:
        return tag("p", "not judged yet", class_="muted")
    parts = [tag("p", join([preference_badge(record), f" judge {record.get('judge')} ({record.get('judge_model')})",
                            f" · order agreement {record.get('agreement')}" if "agreement" in record else ""]))]
    if record.get("error"):
        parts.append(tag("p", badge("error", "error") + esc(" " + str(record["error"]))))
    for order in record.get("orders", []):
        parts.append(tag("h4", f"model shown {order.get('model_position')}: verdict {order.get('verdict')}, "
                               f"P(model) {number_text(order.get('p_model'), 3)}"))
        parts.append(attempts_block(order.get("attempts", [])))
    if "attempts" in record:  # a single-answer grade
        parts.append(attempts_block(record["attempts"]))
    return join(parts)


def prompt_block(answer: dict[str, Any], reference: dict[str, Any] | None,
                 judgments: dict[str, dict[str, Any]]) -> Markup:
    prompt_id = answer["id"]
    turns, outputs = answer.get("turns", []), answer.get("answers", [])
    pair = judgments.get(prompt_id)
    grades = [judgments[k] for k in (f"{prompt_id}/turn{t}" for t in range(1, len(turns) + 1)) if k in judgments]
    reference_outputs = (reference or {}).get("answers") or ([pair["reference_output"]] if pair and
                                                            "reference_output" in pair else [])
    reference_label = ("un-updated policy" if reference else "reference answer" if reference_outputs
                       else "reference (not produced yet)")
    body = []
    for index, turn in enumerate(turns):
        body.append(tag("h4", f"turn {index + 1}") + text_block(turn))
        left = tag("div", tag("h4", f"answer ({answer.get('policy', 'policy')})")
                   + text_block(outputs[index] if index < len(outputs) else ""))
        right = tag("div", tag("h4", reference_label) + text_block(
            reference_outputs[index] if index < len(reference_outputs) else "—"))
        body.append(tag("div", Markup(left + right), class_="columns"))
    if answer.get("error"):
        body.append(tag("p", badge("answer error", "error") + esc(" " + str(answer["error"]))))
    for record in ([pair] if pair else []) + grades:
        body.append(details(f"judgment {record['id']}", judgment_block(record)))
    summary = join([f"{prompt_id} ", *(preference_badge(r) for r in ([pair] if pair else grades or [None]))])
    return details(summary, join(body))


def task_browser(run: RunData, max_tasks: int | None) -> Markup:
    acquisitions = run.indexed("acquisitions")
    policies = run.indexed("policies")
    answers = run.indexed("answers")
    references = run.indexed("reference_answers")
    judgments = run.indexed("judgments")
    by_task: dict[str, list[dict[str, Any]]] = {}
    for answer in answers.values():
        by_task.setdefault(str(answer.get("task_id")), []).append(answer)
    task_ids = list(dict.fromkeys([*acquisitions, *by_task]))
    if not task_ids:
        return tag("p", "no tasks logged yet", class_="muted")
    shown = task_ids if max_tasks is None else task_ids[:max_tasks]
    entries = []
    for task_id in shown:
        acquisition = acquisitions.get(task_id) or {}
        prompts = by_task.get(task_id, [])
        category = next((p.get("category") for p in prompts if p.get("category")), "")
        trajectory = acquisition.get("trajectory")
        summary = [f"{task_id} ", badge(category) if category else "",
                   badge(f"{len(prompts)} prompt(s)")]
        if acquisition:
            summary.append(badge(f"{len(acquisition.get('outcomes', []))} call(s), ${acquisition.get('cost_usd', 0.0):.3f}"))
            if trajectory and trajectory.get("dropped"):
                summary.append(badge(f"{len(trajectory['dropped'])} dropped"))
            if acquisition.get("error") or (trajectory or {}).get("error"):
                summary.append(badge("error", "error"))
        body = []
        if acquisition:
            body.append(details("trajectory", trajectory_block(trajectory), open_=True))
            body.append(details(f"acquired data ({acquisition.get('n_items', 0)} items)",
                                outcomes_block(acquisition.get("outcomes", []))))
        policy = policies.get(task_id)
        if policy:
            info = policy.get("details") or {}
            body.append(details(f"policy update ({policy.get('learner')}: {info.get('n_used', '?')} of "
                                f"{info.get('n_items', '?')} items used)",
                                join([text_block(info), text_block(policy.get("context") or "(no context)")])))
        body.extend(prompt_block(p, references.get(p["id"]), judgments) for p in prompts)
        entries.append(details(join(summary), join(body), class_="task"))
    more = len(task_ids) - len(shown)
    note = tag("p", f"{more} more task(s) not shown: raise --max-tasks", class_="muted") if more else ""
    return browser(join(entries), note)


def sample_block(record: dict[str, Any], k: int, sample: dict[str, Any]) -> Markup:
    role = "chosen" if record.get("chosen") == k else "rejected" if record.get("rejected") == k else ""
    head = join([f"sample {k}: reward {number_text(sample.get('reward'), 3)}, ${sample.get('cost_usd', 0.0):.4f}, "
                 f"{sample.get('n_calls', 0)} call(s) ", badge(role, "win" if role == "chosen" else "loss") if role
                 else "", badge("parse error", "error") if sample.get("parse_error") else ""])
    body = [tag("p", f"held-out rewards: {sample.get('held_out_rewards')}  ·  API calls: {sample.get('api_counts')}"),
            details("trajectory", trajectory_block(sample.get("trajectory")), open_=True),
            details("acquired data", outcomes_block((sample.get("acquisition") or {}).get("outcomes", [])))]
    return details(head, join(body))


def train_browser(run: RunData, max_tasks: int | None) -> Markup:
    records = run.log("samples")
    if not records:
        return tag("p", "no samples logged yet", class_="muted")
    shown = records if max_tasks is None else records[:max_tasks]
    entries = []
    for record in shown:
        rewards = [s.get("reward") for s in record.get("samples", []) if s.get("reward") is not None]
        summary = join([f"iteration {record.get('iteration')} · {record.get('task_id')} ",
                        badge(f"{len(record.get('samples', []))} samples"),
                        badge(f"best reward {max(rewards):.3f}") if rewards else "",
                        badge(f"chosen {record.get('chosen')} / rejected {record.get('rejected')}")])
        body = [tag("h4", "observed instructions") + text_block("\n".join(record.get("observed", []))),
                tag("h4", "held-out instructions") + text_block("\n".join(record.get("held_out", []))),
                tag("p", f"selection: {record.get('selection_note') or '—'}", class_="muted")]
        body.extend(sample_block(record, k, s) for k, s in enumerate(record.get("samples", [])))
        entries.append(details(summary, join(body), class_="task"))
    more = len(records) - len(shown)
    return browser(join(entries), f"{more} more not shown: raise --max-tasks" if more else "")
