"""No template library of the project replaces one of Django's own tags or filters, and none is
loaded into every template behind the templates' back: a template's ``{% url %}`` or ``|date``
is Django's, as a reader of the template expects."""

from __future__ import annotations

import importlib
import pkgutil

import django.templatetags
from django.conf import settings
from django.template import engines
from django.template.backends.django import DjangoTemplates, get_installed_libraries
from django.template.engine import Engine
from django.template.library import Library


def django_libraries() -> dict[str, Library]:
    """Django's own libraries: the builtins of every engine and those of django.templatetags
    (i18n, l10n, static, tz, cache), which ``{% load %}`` brings in."""
    modules = list(Engine.default_builtins)
    modules += [f"django.templatetags.{m.name}" for m in pkgutil.iter_modules(django.templatetags.__path__)]
    return {m: importlib.import_module(m).register for m in modules}


def project_libraries() -> dict[str, Library]:
    """Every library a template of the project can use: the ``templatetags`` modules of the
    installed apps and whatever the TEMPLATES settings name as libraries or builtins."""
    names = {m for m in get_installed_libraries().values() if m.startswith("yiwang.")}
    for config in settings.TEMPLATES:
        options = config.get("OPTIONS", {})
        names.update(m for m in options.get("libraries", {}).values() if not m.startswith("django."))
        names.update(m for m in options.get("builtins", []) if not m.startswith("django."))
    return {m: importlib.import_module(m).register for m in sorted(names)}


def test_the_project_has_template_libraries_to_check():
    assert "yiwang.core.templatetags.dates" in project_libraries()


def test_no_project_tag_or_filter_shadows_one_of_djangos():
    tags = {name for lib in django_libraries().values() for name in lib.tags}
    filters = {name for lib in django_libraries().values() for name in lib.filters}
    assert {"url", "if", "for", "include", "block", "translate", "static", "localize"} <= tags
    assert {"date", "escape", "safe", "default", "localize"} <= filters
    clashes = [
        f"{module}: {kind} {name}"
        for module, lib in project_libraries().items()
        for kind, names, builtin in (("tag", lib.tags, tags), ("filter", lib.filters, filters))
        for name in names
        if name in builtin
    ]
    assert clashes == []


def test_no_project_module_is_a_template_builtin():
    for config in settings.TEMPLATES:
        assert not [m for m in config.get("OPTIONS", {}).get("builtins", []) if m.startswith("yiwang")]
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            assert [m for m in engine.engine.builtins if not m.startswith("django.")] == [], engine.name
