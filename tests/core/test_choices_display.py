"""core.choices: every model's fast ``get_FOO_display`` answers as Django's own does, for every
choice, a value outside the choices and an empty one, in each interface language."""

from __future__ import annotations

from functools import partialmethod

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from yiwang.core.choices import install


def fields_with_fixed_choices() -> list[tuple[type[models.Model], models.Field]]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            fixed = getattr(field, "choices", None) and isinstance(field.choices, list | tuple)
            if fixed and f"get_{field.name}_display" in vars(model):
                found.append((model, field))
    return found


def test_every_fixed_choices_field_has_the_fast_method():
    fields = fields_with_fixed_choices()
    assert len(fields) > 20  # the project's state, kind, origin... fields
    for model, field in fields:
        method = vars(model)[f"get_{field.name}_display"]
        assert isinstance(method, partialmethod) and method.func is not models.Model._get_FIELD_display, (
            model,
            field,
        )
    assert install() == 0  # installing again finds nothing left of Django's own


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_the_same_labels_as_djangos_own(language):
    with translation.override(language):
        for model, field in fields_with_fixed_choices():
            values = [v for v, _label in field.flatchoices] + ["no-such-value", None, ""]
            for value in values:
                obj = model()
                setattr(obj, field.attname, value)
                fast = getattr(obj, f"get_{field.name}_display")()
                assert fast == models.Model._get_FIELD_display(obj, field), (model, field.name, value)
                assert type(fast) is type(models.Model._get_FIELD_display(obj, field))


def test_labels_follow_the_language():
    from yiwang.cases.models import Case

    case = Case(state="accepted")
    with translation.override("zh-hans"):
        chinese = case.get_state_display()
    with translation.override("en"):
        english = case.get_state_display()
    assert chinese == "已受理" and english != chinese and english.isascii()
