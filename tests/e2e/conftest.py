"""Fixtures of this folder: an integrator key for posting reports."""

from tests.support.intake_keys import intake_key

__all__ = ["intake_key"]
