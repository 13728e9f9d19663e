"""Running work on a Ray cluster with the driver as the only writer (``--executor ray``): the hub
that shares the driver's response cache and streams workers' ledger records back, and the loop
that drains it. Used by the pipeline (a task's chain) and the trainer (a trajectory's reward)."""
