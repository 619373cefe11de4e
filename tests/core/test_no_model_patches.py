"""No model method and no ORM class is replaced at start-up: every ``get_FOO_display`` is the one
Django's ``Field.contribute_to_class`` installs, and the methods of Django's model, queryset,
manager and SQL compiler classes are the ones defined in Django's own modules. The database
backend is Django's own as well."""

from __future__ import annotations

import inspect
import sysconfig
from functools import partialmethod
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.db import connections, models
from django.db.models import manager, query
from django.db.models.sql import compiler

DJANGO_DIR = Path(django.__file__).resolve().parent
STDLIB_DIR = Path(sysconfig.get_paths()["stdlib"]).resolve()
DJANGO_CLASSES: list[type] = [
    models.Model,
    query.QuerySet,
    query.ModelIterable,
    query.ValuesListIterable,
    manager.BaseManager,
    manager.Manager,
    compiler.SQLCompiler,
    compiler.SQLInsertCompiler,
    compiler.SQLUpdateCompiler,
    compiler.SQLDeleteCompiler,
    models.Field,
    models.ForeignKey,
]


def _display_methods() -> list[tuple[type[models.Model], str, object]]:
    found = []
    for model in apps.get_models(include_auto_created=True):
        for klass in model.__mro__:
            for name, value in vars(klass).items():
                if name.startswith("get_") and name.endswith("_display") and name != "get_FIELD_display":
                    found.append((model, name, value))
    return found


def test_every_get_foo_display_is_djangos_own() -> None:
    methods = _display_methods()
    assert len(methods) > 20  # the project's state, kind, origin... fields
    for model, name, method in methods:
        assert isinstance(method, partialmethod), (model, name)
        assert method.func is models.Model._get_FIELD_display, (model, name)
        field = method.keywords["field"]
        assert name == f"get_{field.name}_display", (model, name)


def test_a_label_comes_from_djangos_method() -> None:
    from yiwang.cases.models import Case

    case = Case(state="accepted")
    assert case.get_state_display() == models.Model._get_FIELD_display(case, Case._meta.get_field("state"))


@pytest.mark.parametrize("cls", DJANGO_CLASSES, ids=lambda c: c.__qualname__)
def test_django_orm_classes_keep_their_own_methods(cls: type) -> None:
    """Each function found on the class and its Django bases was compiled from Django's own
    source (or the standard library's, ``functools.total_ordering``) and belongs to a Django
    module: a function assigned from the project's code is not.
    (A manager's methods are generated from QuerySet's, so the file is Django's, not the
    class's own.)"""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("django."):
            continue
        for name, value in vars(klass).items():
            func = value.__func__ if isinstance(value, classmethod | staticmethod) else value
            if not inspect.isfunction(func):
                continue
            where = Path(func.__code__.co_filename).resolve()
            assert where.is_relative_to(DJANGO_DIR) or where.is_relative_to(STDLIB_DIR), (klass, name, where)
            assert func.__module__.startswith(("django.", "functools")), (klass, name, func.__module__)


def test_the_database_backend_is_djangos() -> None:
    wrapper = connections["default"]
    assert type(wrapper).__module__.startswith("django.db.backends."), type(wrapper).__module__
    assert wrapper.ops.compiler_module.startswith("django.db."), wrapper.ops.compiler_module
