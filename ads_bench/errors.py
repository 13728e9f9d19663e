"""Errors a user can cause and fix.

Anything raised as :class:`UserError` reaches the terminal as one line naming the fix and
exits with status 2; every other exception is a bug and shows its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: bad input, missing extra, unreachable server, bad config.

    The message must say what is wrong *and* what to do about it, in one line.
    """

    exit_code = 2


class ModelUnavailable(UserError):
    """A model backend cannot be reached or loaded (server down, extra not installed)."""


class MissingExtra(UserError):
    """An optional dependency is needed for the requested feature."""

    def __init__(self, package: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the '{package}' package: install it with "
            f"`pip install 'ads-bench[{extra}]'`"
        )
