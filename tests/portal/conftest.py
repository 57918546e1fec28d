"""The capacity pages' tests share the hand-built firm of the capacity tests."""

from tests.capacity.conftest import firm, frozen_today  # noqa: F401
