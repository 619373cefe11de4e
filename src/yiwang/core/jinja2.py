"""The environment of the second template engine (settings.TEMPLATES, ``jinja2``): Django's own
Jinja2 backend, for the partials a page renders many times over (``<app>/jinja2/``).

Templates there get what Django's template language gives the others: ``url(name, *args)``
(``reverse``), ``static(path)``, ``_()``/``gettext``/``ngettext`` (Django's translations, in
the active language; ``{{ _("…") }}`` in a ``.html`` file is found by ``makemessages``),
``localize``, ``hant`` (data in Traditional characters for 繁體中文, core/hant.py) and
``get_current_language()``. Autoescaping is on (the backend's default), so a
value is escaped unless it is already safe HTML (``Markup`` or Django's ``SafeString``).
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import localize
from django.utils.translation import get_language, gettext, ngettext, npgettext, pgettext
from jinja2 import Environment

from yiwang.core.hant import hant


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """``{% url name arg ... %}``: ``reverse(name, args=args, kwargs=kwargs)``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)  # type: ignore[attr-defined]
    env.globals.update({"url": url, "static": static, "get_current_language": get_language})
    env.filters["localize"] = localize
    env.filters["hant"] = hant
    return env
