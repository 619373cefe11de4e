"""Errors a service raises, carrying messages in the user's language and the field at fault.

Views and API routers turn them into a form error next to the field, a 400/403 answer, or a row
of an import report; services never return half-done work together with an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str  # element name, "" when the error is about the whole object
    message: str  # already translated
    code: str = "invalid"


class DomainError(Exception):
    """A business rule refused the action."""

    def __init__(self, message: str, *, field: str = "", code: str = "invalid") -> None:
        super().__init__(message)
        self.errors = [FieldError(field, str(message), code)]

    @property
    def messages(self) -> list[str]:
        return [e.message for e in self.errors]


@dataclass
class ValidationFailed(DomainError):
    """Several broken rules at once, one message per rule."""

    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        Exception.__init__(self, "; ".join(e.message for e in self.errors))


class NotPermitted(DomainError):
    """The actor may not do this to this object (checked in services, not only in views)."""

    def __init__(self, message: str = "", *, code: str = "forbidden") -> None:
        from django.utils.translation import gettext

        super().__init__(message or gettext("您没有权限执行此操作。"), code=code)
