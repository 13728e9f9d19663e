"""Data acquisition: the three APIs, trajectories, costs."""
