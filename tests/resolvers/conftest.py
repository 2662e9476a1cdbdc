"""Fixtures of the compiled path's differential tests (`compiled_support`)."""

from tests.resolvers.compiled_support import both, ledger_data  # noqa: F401 - fixtures
