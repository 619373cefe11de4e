"""``core.labels.ChoiceLabel`` gives what Django's ``get_FOO_display`` gives, for every value of
every field that has one, in each language of the interface, and a value outside the choices as
itself."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation

from yiwang.core.labels import ChoiceLabel


def _labels() -> list[tuple[type, str, ChoiceLabel]]:
    found = []
    for model in apps.get_models():
        for name, value in vars(model).items():
            if isinstance(value, ChoiceLabel):
                found.append((model, name, value))
    return found


def test_the_case_pages_labels_exist() -> None:
    names = {f"{m.__name__}.{n}" for m, n, _ in _labels()}
    assert {"Case.state_label", "CaseMaterial.origin_label", "Notice.kind_label"} <= names


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_every_label_is_get_foo_display(language: str) -> None:
    with translation.override(language):
        for model, name, label in _labels():
            field = model._meta.get_field(label.attname)
            assert field.choices, (model, name)
            for value, _text in [*field.flatchoices, ("no-such-value", "")]:
                obj = model(**{label.attname: value})
                display = getattr(obj, f"get_{field.name}_display")()
                assert str(getattr(obj, name)) == str(display), (model, name, value, language)
