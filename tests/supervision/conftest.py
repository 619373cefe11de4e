"""The cases tests' world (a published item, a verified applicant, staff of three scopes)."""

from tests.cases.conftest import World, _fast, world  # noqa: F401  (fixtures reused)
