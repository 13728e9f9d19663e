"""Policy update: how a policy learns from acquired data.

Every learner is ``await get_learner(name)(policy, items, runtime=..., task_id=..., config=...)``
and returns a new :class:`Policy` whose ``details`` record what happened (items used and
dropped and why, tokens, loss, adapter, seconds). Built-ins:

- ``icl``: packs the items into the policy's system message within a token budget;
- ``finetune``: LoRA SFT of the policy's weights on the items (trl + peft), adapter cached;
- ``source-finetune``: the same LoRA SFT on the in-house training pool instead of the items
  (the paper's Appendix F baseline), one cached adapter for every task.

Other packages add learners under the entry-point group ``ads_bench.learners``.

    >>> from ads_bench.learning import Policy, get_learner
    >>> icl = get_learner("icl")
    >>> packed = await icl(Policy(runtime.model("embedded")), items, runtime=runtime,
    ...                    task_id="t1", config={"reserve_tokens": 2048})
"""

from ads_bench.learning.policy import Policy
from ads_bench.learning.registry import (
    ENTRY_POINT_GROUP,
    Learner,
    get_learner,
    learner_names,
    learner_table,
    register_learner,
    unregister_learner,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Learner",
    "Policy",
    "get_learner",
    "learner_names",
    "learner_table",
    "register_learner",
    "unregister_learner",
]
