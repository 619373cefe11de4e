"""The environment of the second template engine (settings.TEMPLATES, ``jinja2``): Django's own
Jinja2 backend, for the partials a page renders many times over (``<app>/jinja2/``).

Templates there get what Django's template language gives the others: ``url(name, *args)``
(``reverse``), ``static(path)``, ``_()``/``gettext``/``ngettext`` (Django's translations, in
the active language; ``{{ _("…") }}`` in a ``.html`` file is found by ``makemessages``),
``localize``, ``floatformat`` (Django's filter), ``ymd_hm`` (``|date:"Y-m-d H:i"`` in the
current time zone, core/templatetags/dates.py), ``hant`` (data in Traditional characters for 繁體中文, core/hant.py) and
``get_current_language()``; for the header's account area (portal/_account.html), every page's,
``account_name(user)`` (``identity.selectors.display_name``) and ``acting_menu(request)``
(``identity.acting.acting_menu``). ``{% jinja_include %}`` (core/templatetags/jinja.py) puts
such a partial into a page of Django's template language, ``{% jinja_fragment %}`` one that
``fragment(name)`` renders once per process and language. Autoescaping is on (the backend's default), so a
value is escaped unless it is already safe HTML (``Markup`` or Django's ``SafeString``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import get_language, gettext, ngettext, npgettext, pgettext
from jinja2 import Environment
from markupsafe import Markup

from yiwang.core.hant import hant
from yiwang.core.templatetags import dates
from yiwang.identity.acting import acting_menu
from yiwang.identity.selectors import display_name


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """``{% url name arg ... %}``: ``reverse(name, args=args, kwargs=kwargs)``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


# fragment(): (template name, language) -> its rendered HTML, for this process's life.
_fragments: dict[tuple[str, str], Markup] = {}


def fragment(name: str) -> Markup:
    """The Jinja2 template ``name`` rendered without a context, once per process and language.
    Only for a partial made of URL names, translations and static file names (the workbench's
    <head> lines and navigation): those are read at start-up (URLconf, compiled catalogues, the
    static manifest) and fixed until the process is restarted, as a deployment does, so the key
    names everything the HTML depends on. With DEBUG on it is rendered every time, so that an
    edited template shows."""
    key = (name, get_language() or "")
    html = _fragments.get(key)
    if html is None or settings.DEBUG:
        html = Markup(get_template(name, using="jinja2").render())  # noqa: S704 - autoescaped output
        _fragments[key] = html
    return html


def ymd_hm(value: Any) -> str:
    """``|date:"Y-m-d H:i"``: in the current time zone, as Django's engine converts a value for a
    filter that ``expects_localtime``."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dates.ymd_hm(value)


def environment(**options: Any) -> Environment:
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)  # type: ignore[attr-defined]
    env.globals.update(
        {
            "url": url,
            "fragment": fragment,
            "static": static,
            "get_current_language": get_language,
            "account_name": display_name,
            "acting_menu": acting_menu,
        }
    )
    env.filters["localize"] = localize
    env.filters["floatformat"] = floatformat
    env.filters["ymd_hm"] = ymd_hm
    env.filters["hant"] = hant
    return env
