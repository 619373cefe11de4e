"""Issue 17 (1): every portal page shows who is signed in, with an account menu and 退出登录,
or 登录 and 注册 when nobody is; signing out is a POST that ends the session and returns to the
page's public version."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.identity.auth.conftest import PASSWORD, make_person
from yiwang.identity.models import AccountSession, Person

pytestmark = pytest.mark.django_db


def _pages(catalog) -> list[str]:
    return [
        "/",
        "/items/",
        "/search/?q=食品",
        f"/items/{catalog.food.code}/",
        f"/items/{catalog.food.code}/versions/",
        f"/life-events/{catalog.life_event.code}/",
        "/bundles/",
        "/cases/lookup/",
    ]


SIGNED_IN_ONLY = ["/my/cases/", "/my/certificates/", "/account/", "/auth/sessions/"]


def _signed_in(username: str = "lisi", id_number: str = "11010519491231002X") -> Client:
    make_person(username, id_number)
    client = Client()
    r = client.post("/auth/login/", {"login": username, "password": PASSWORD})
    assert r.status_code == 302, r.content.decode()[:500]
    return client


def _account_area(html: str) -> str:
    m = re.search(r'<div class="account" id="account">(.*?)\n</div>', html, re.S)
    assert m, "the header has no account area"
    return m.group(1)


def test_signed_out_pages_offer_login_and_register(client, catalog):
    for url in _pages(catalog):
        r = client.get(url)
        assert r.status_code == 200, url
        area = _account_area(r.content.decode())
        assert ">登录</a>" in area and ">注册</a>" in area, url
        assert "退出登录" not in area, url
        path = url.split("?")[0]
        assert f'href="/auth/login/?next={path}' in area.replace("%2F", "/"), url


def test_signed_in_pages_show_the_name_and_the_menu(catalog):
    client = _signed_in()
    for url in _pages(catalog) + SIGNED_IN_ONLY:
        r = client.get(url)
        assert r.status_code == 200, url
        area = _account_area(r.content.decode())
        assert '<span class="account-name" id="account-name">张三</span>' in area, url  # the real name
        assert "退出登录" in area and 'action="/auth/logout/"' in area, url
        assert 'name="csrfmiddlewaretoken"' in area, url
        assert ">注册</a>" not in area and ">登录</a>" not in area, url
        for link in ("/my/cases/", "/account/"):
            assert f'href="{link}"' in area, url


def test_the_cached_guide_page_shows_each_reader_their_own_header(catalog):
    cache.clear()
    url = f"/items/{catalog.food.code}/"
    anonymous = Client()
    assert ">登录</a>" in _account_area(anonymous.get(url).content.decode())  # fills the cache
    signed_in = _signed_in()
    area = _account_area(signed_in.get(url).content.decode())
    assert "张三" in area and "退出登录" in area
    other = _signed_in("wangwu", "110105194912310037")
    Person.objects.filter(user__username="wangwu").update(name="王五")
    other_area = _account_area(other.get(url).content.decode())
    assert "王五" in other_area and "张三" not in other_area
    assert ">登录</a>" in _account_area(anonymous.get(url).content.decode())


def test_anonymous_readers_share_one_guide_page_whose_login_returns_to_the_guide(catalog):
    """The anonymous variant of a guide page is cached with its account area; 登录 returns to
    the guide itself, whatever query string the first reader came with."""
    cache.clear()
    url = f"/items/{catalog.food.code}/"
    first = _account_area(Client().get(url + "?from=search").content.decode())
    assert f'?next={url}"' in first
    with CaptureQueriesContext(connection) as q:
        again = _account_area(Client().get(url).content.decode())
    assert again == first and not any("identity_person" in x["sql"] for x in q.captured_queries)


def test_the_name_falls_back_to_the_account_without_a_person(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("clerk7", password=PASSWORD, first_name="七", last_name="王")
    client.force_login(user)
    area = _account_area(client.get("/").content.decode())
    assert 'id="account-name">王七</span>' in area  # family name first, unspaced


def test_the_header_adds_at_most_one_query(catalog):
    client = _signed_in()
    client.get("/items/")  # warm the template and fragment caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/items/").status_code == 200
    person_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "identity_person"' in q["sql"]]
    assert len(person_reads) <= 1, person_reads


def test_post_logout_from_a_public_page_returns_to_it_signed_out(catalog):
    client = _signed_in()
    guide = f"/items/{catalog.food.code}/"
    page = client.get(guide).content.decode()
    token = re.search(
        r'class="logout-form"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page
    )
    assert token
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    r = csrf_client.post("/auth/logout/", {"next": guide, "csrfmiddlewaretoken": token.group(1)})
    assert r.status_code == 302 and r["Location"] == guide
    assert not AccountSession.objects.filter(ended_at__isnull=True).exists()  # the SSO session ended too
    area = _account_area(csrf_client.get(guide).content.decode())
    assert ">登录</a>" in area and "张三" not in area
    later = csrf_client.get("/my/cases/")
    assert later.status_code == 302 and later["Location"].startswith("/auth/login/")


def test_post_logout_from_a_signed_in_page_returns_to_the_home_page(db):
    client = _signed_in()
    r = client.post("/auth/logout/", {"next": "/my/cases/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/my/cases/").status_code == 302


def test_logout_needs_the_csrf_token(db):
    client = _signed_in()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    assert csrf_client.post("/auth/logout/", {"next": "/"}).status_code == 403
    assert csrf_client.get("/my/cases/").status_code == 200  # still signed in


def test_get_logout_does_not_log_out(db):
    client = _signed_in()
    r = client.get("/auth/logout/?next=/")
    assert r.status_code == 200 and 'id="logout-form"' in r.content.decode()
    assert client.get("/my/cases/").status_code == 200


def test_logout_never_redirects_off_site(db):
    client = _signed_in()
    r = client.post("/auth/logout/", {"next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Account and security", "Sign out", "Account menu: 张三"]),
        ("zh-hant", ["帳戶與安全", "退出登錄"]),
    ],
)
def test_the_account_menu_is_translated(catalog, language, words):
    client = _signed_in()
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    area = _account_area(client.get("/items/").content.decode())
    for word in words:
        assert word in area, (language, word)
