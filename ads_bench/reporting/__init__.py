"""Presentation: leaderboards, the HTML report, plots and exports, read from finished run folders."""

#: tasks (or training records) a report's browser shows per run unless asked for more
DEFAULT_MAX_TASKS = 200
