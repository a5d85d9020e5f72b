"""Errors of the deploy, each with a message an operator can act on."""


class DeployError(Exception):
    """The deploy (or rollback) stopped; the live site is as it was."""


class DeployLocked(DeployError):
    """Another deploy holds the lock on a host."""
