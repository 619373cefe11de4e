"""A faster ``get_FOO_display`` for every model field with fixed choices.

Django's own (``Model._get_FIELD_display``) flattens the field's choices and makes every label
hashable on each call: 60 to 100 microseconds on this project's machines, and the case pages call
it a dozen times, a list of cases once per row. Here the value-to-label map of each field is
built once, when the apps are ready; the labels stay lazy translations, so each call still
answers in the reader's language. Only fields whose choices are a fixed list are changed (not
callable choices, which may differ from call to call), and only where the method is Django's own
(a model that defines its own ``get_FOO_display`` keeps it). Tested against Django's method for
every such field and value in tests/core/test_choices_display.py.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def _display(self: models.Model, field: models.Field, labels: dict[Any, Any]) -> Any:
    value = getattr(self, field.attname)
    try:
        label = labels.get(value, value)
    except TypeError:  # an unhashable value (a list in a JSON field with choices)
        label = labels.get(make_hashable(value), value)
    return force_str(label, strings_only=True)


def install() -> int:
    """Replace Django's ``get_FOO_display`` of every installed model field with fixed choices by
    one that looks the label up in a map built now. Returns how many were replaced."""
    replaced = 0
    for model in apps.get_models(include_auto_created=True):
        for name, method in list(vars(model).items()):
            if not (
                name.startswith("get_")
                and isinstance(method, partialmethod)
                and method.func is models.Model._get_FIELD_display
            ):
                continue
            field = method.keywords["field"]
            if not isinstance(field.choices, list | tuple):
                continue
            labels = dict(make_hashable(field.flatchoices))
            setattr(model, name, partialmethod(_display, field=field, labels=labels))
            replaced += 1
    return replaced
