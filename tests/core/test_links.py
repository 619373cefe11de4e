"""core/links.py: ``url_with_last`` gives what ``reverse`` gives, with one reverse per view."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse, set_script_prefix

from yiwang.core.links import url_with_last


def test_url_with_last_gives_what_reverse_gives():
    material = url_with_last("workbench:material", 10)
    assert [material(pk) for pk in (0, 7, 123)] == [
        reverse("workbench:material", args=[10, pk]) for pk in (0, 7, 123)
    ]
    act = url_with_last("workbench:act", 3)
    assert act("accept") == reverse("workbench:act", args=[3, "accept"])
    guide = url_with_last("portal:guide")
    for code in ("11350100MB0123456-001", "a b ç~", "<x>&"):
        assert guide(code) == reverse("portal:guide", args=[code])


def test_url_with_last_follows_the_script_prefix():
    set_script_prefix("/gov/")
    try:
        assert url_with_last("portal:guide")("X1") == reverse("portal:guide", args=["X1"]) == "/gov/items/X1/"
    finally:
        set_script_prefix("/")


def test_url_with_last_refuses_a_view_it_cannot_serve():
    with pytest.raises(ImproperlyConfigured):
        url_with_last("portal:case_receipt")  # its argument is not the end of its URL
