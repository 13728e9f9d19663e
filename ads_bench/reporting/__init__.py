"""Presentation: leaderboards, the HTML report, plots and exports, read from finished run folders."""
