"""``ChoiceLabel``: the label of a choices field's value, for pages that print many of them.

Django's ``get_FOO_display`` builds a dict of the field's whole choice list on every call (each
lazy label translated on the way), which a list of twenty cases pays forty times over. A
``ChoiceLabel`` looks the value up in a dict made once from the field's enumeration; the label
stays lazy, so it is translated when printed, in the reader's language. ``get_FOO_display``
itself is left as Django makes it.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class ChoiceLabel:
    """``state_label = ChoiceLabel("state", CaseState)`` on a model: ``case.state_label`` is what
    ``case.get_state_display()`` returns (tests/core/test_labels.py), a value outside the
    choices shown as itself."""

    def __init__(self, attname: str, choices: type[models.Choices]) -> None:
        self.attname = attname
        self.choices = choices
        self.labels: dict[Any, Any] = dict(choices.choices)

    def __get__(self, obj: models.Model | None, owner: type[models.Model] | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.attname)
        return self.labels.get(value, value)
