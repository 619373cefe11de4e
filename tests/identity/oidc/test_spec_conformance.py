"""The provider held to the specifications that relying parties check: one regression test (or a
few) per hole a conformance probe found. Each names the clause it holds the provider to."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from tests.identity.auth.helpers import login_with_second_factor
from yiwang.identity.models import AssuranceLevel, ClientSettings

from .helpers import (
    REDIRECT,
    SECRET,
    authorize_url,
    code_from,
    exchange,
    login,
    make_client,
    make_person,
    pkce,
    query_of,
    sign_in,
    verify,
)

pytestmark = pytest.mark.django_db
Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _with_issuer(settings, iss: str) -> None:
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": iss}


# --- RFC 9207: one issuer everywhere ------------------------------------------------------------


@pytest.mark.parametrize("configured", ["", "https://id.example.gov.cn/o"])
def test_iss_of_success_and_error_responses_is_the_discovery_and_id_token_issuer(
    client: Client, settings, configured: str
) -> None:
    _with_issuer(settings, configured)
    issuer = client.get("/o/.well-known/openid-configuration").json()["issuer"]
    assert issuer == (configured or "http://testserver/o")
    app = make_client(skip_authorization=True)
    login(client, make_person())

    p = pkce()
    success = client.get(authorize_url(app, p))
    assert query_of(success["Location"])["iss"] == issuer
    tokens = exchange(client, app, code_from(success), p.verifier).json()
    assert verify(client, tokens["id_token"])[1]["iss"] == issuer

    # Errors too: yiwang's own (PKCE method), oauthlib's (scope), prompt=none's.
    for url in (
        authorize_url(app, None, code_challenge=p.challenge),
        authorize_url(app, pkce(), scope="openid admin"),
        authorize_url(app, pkce(), prompt="none", max_age="0"),
    ):
        response = client.get(url)
        q = query_of(response["Location"])
        assert "error" in q, q
        assert q["iss"] == issuer, (url, q)


def test_rfc8414_metadata_is_mounted_with_the_same_issuer(client: Client) -> None:
    oidc = client.get("/o/.well-known/openid-configuration").json()
    for url in ("/o/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/o"):
        meta = client.get(url)
        assert meta.status_code == 200, url
        data = meta.json()
        assert data["issuer"] == oidc["issuer"]
        assert data["authorization_endpoint"] == oidc["authorization_endpoint"]
        assert data["authorization_response_iss_parameter_supported"] is True
        assert data["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]
        assert data["response_types_supported"] == ["code"]


# --- an ID token is no bearer credential --------------------------------------------------------


def test_id_token_never_opens_the_account_api(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    tokens = sign_in(client, app, scope="openid profile account")
    api = Client()
    assert (
        api.get("/api/account/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 200
    )
    response = api.get("/api/account/me", HTTP_AUTHORIZATION=f"Bearer {tokens['id_token']}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- RFC 6749 §4.1.2: a replayed code takes back its tokens -------------------------------------


def test_replayed_code_is_refused_and_revokes_the_tokens_it_yielded(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    p = pkce()
    code = code_from(client.get(authorize_url(app, p)))
    first = exchange(client, app, code, p.verifier)
    assert first.status_code == 200
    tokens = first.json()
    # The legitimate client refreshes once: the rotated token belongs to the same code.
    refreshed = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=_basic(app.client_id, SECRET),
    ).json()

    replay = exchange(client, app, code, p.verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    api = Client()
    for access in (tokens["access_token"], refreshed["access_token"]):
        assert api.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    again = client.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        HTTP_AUTHORIZATION=_basic(app.client_id, SECRET),
    )
    assert again.status_code == 400


# --- RFC 7662: introspection for registered resource servers ------------------------------------


def _resource_server(client_id: str, serves: str) -> Application:
    rs = make_client(client_id, scopes="openid")
    ClientSettings.objects.filter(application=rs).update(introspect_clients=serves)
    return rs


def test_introspection_only_for_registered_resource_servers(client: Client) -> None:
    city = make_client("city-fz", skip_authorization=True)
    other = make_client("city-xm", skip_authorization=True, name="厦门")
    login(client, make_person())
    city_tokens = sign_in(client, city)
    other_tokens = sign_in(client, other)

    # A plain relying party may not introspect at all, not even its own tokens.
    refused = client.post(
        "/o/introspect/",
        {"token": other_tokens["access_token"]},
        HTTP_AUTHORIZATION=_basic("city-fz", SECRET),
    )
    assert refused.status_code == 403
    # Bad credentials: 401, challenged with Basic.
    bad = client.post("/o/introspect/", {"token": "x"}, HTTP_AUTHORIZATION=_basic("city-fz", "wrong" * 8))
    assert bad.status_code == 401 and bad["WWW-Authenticate"].startswith("Basic ")

    _resource_server("api-gateway", serves="city-fz")
    rs_auth = _basic("api-gateway", SECRET)
    mine = client.post("/o/introspect/", {"token": city_tokens["access_token"]}, HTTP_AUTHORIZATION=rs_auth)
    assert mine.json()["active"] is True
    assert mine.json()["client_id"] == "city-fz"
    # Another client's live token: the answer does not tell it from a dead one.
    theirs = client.post(
        "/o/introspect/", {"token": other_tokens["access_token"]}, HTTP_AUTHORIZATION=rs_auth
    )
    assert theirs.json() == {"active": False}


def test_valid_refresh_token_introspects_as_active(client: Client) -> None:
    city = make_client("city-fz", skip_authorization=True)
    login(client, make_person())
    tokens = sign_in(client, city)
    _resource_server("api-gateway", serves="city-fz")
    rs_auth = _basic("api-gateway", SECRET)
    data = client.post(
        "/o/introspect/", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=rs_auth
    ).json()
    assert data["active"] is True
    assert data["token_type"] == "refresh_token"
    assert data["client_id"] == "city-fz"
    RefreshToken.objects.get(token_checksum__isnull=False, revoked__isnull=True).revoke()
    data = client.post(
        "/o/introspect/", {"token": tokens["refresh_token"]}, HTTP_AUTHORIZATION=rs_auth
    ).json()
    assert data == {"active": False}


# --- POST at the authorization and end-session endpoints ----------------------------------------


def test_authorization_request_by_post_without_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    app = make_client(skip_authorization=True)
    login(browser, make_person())
    p = pkce()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st-post",
        "nonce": "n-post",
        "code_challenge": p.challenge,
        "code_challenge_method": "S256",
    }
    response = browser.post("/o/authorize/", params)
    assert response.status_code == 302, response.content[:300]
    q = query_of(response["Location"])
    assert q["state"] == "st-post" and q["iss"] == "http://testserver/o"
    tokens = exchange(browser, app, q["code"], p.verifier)
    assert tokens.status_code == 200
    assert verify(browser, tokens.json()["id_token"])[1]["nonce"] == "n-post"


def test_authorization_request_by_post_without_session_goes_to_login_and_back(settings) -> None:
    settings.LOGIN_URL = "/auth/login/"
    browser = Client(enforce_csrf_checks=True)
    app = make_client(skip_authorization=True)
    p = pkce()
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "st-post",
        "code_challenge": p.challenge,
        "code_challenge_method": "S256",
    }
    response = browser.post("/o/authorize/", params)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/?next=")
    # After the login, the same request comes back as a GET and completes.
    back = parse_qs(urlparse(response["Location"]).query)["next"][0]
    login(browser, make_person())
    done = browser.get(back)
    q = query_of(done["Location"])
    assert q["state"] == "st-post" and "code" in q


def test_consent_form_post_still_needs_its_csrf_token() -> None:
    browser = Client(enforce_csrf_checks=True)
    app = make_client()
    login(browser, make_person())
    p = pkce()
    page = browser.get(authorize_url(app, p))
    assert page.status_code == 200
    form = {"allow": "1", "client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code"}
    assert browser.post(authorize_url(app, p), form).status_code == 403


def test_end_session_by_post_without_csrf_token_ends_the_session() -> None:
    browser = Client(enforce_csrf_checks=True)
    app = make_client(skip_authorization=True)
    account_session = login(browser, make_person())
    tokens = sign_in(browser, app)
    response = browser.post(
        "/o/logout/",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "http://rp.test/logged-out",
            "state": "bye",
        },
    )
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == "http://rp.test/logged-out?state=bye"
    account_session.refresh_from_db()
    assert account_session.ended_at is not None
    # The browser's province session is gone: the next authorization asks for a login.
    again = browser.get(authorize_url(app, pkce()))
    assert again.status_code == 302 and "/login" in again["Location"]


def test_logout_confirmed_on_the_provider_page_ends_the_session() -> None:
    # Without an ID token hint the province asks first (RP-Initiated Logout §2); the answer is a
    # CSRF-checked POST of its own page, and it ends the session too.
    browser = Client(enforce_csrf_checks=True)
    account_session = login(browser, make_person())
    page = browser.get("/o/logout/")
    assert page.status_code == 200
    assert browser.post("/o/logout/", {"allow": "1", "yiwang_form": "logout"}).status_code == 403
    account_session.refresh_from_db()
    assert account_session.ended_at is None
    response = browser.post(
        "/o/logout/",
        {"csrfmiddlewaretoken": str(page.context["csrf_token"]), "allow": "1", "yiwang_form": "logout"},
    )
    assert response.status_code == 302
    account_session.refresh_from_db()
    assert account_session.ended_at is not None


# --- OIDC Core §3.1.2.1: prompt=none never shows a page -----------------------------------------


def test_prompt_none_without_session_answers_login_required(client: Client) -> None:
    app = make_client(skip_authorization=True)
    response = client.get(authorize_url(app, pkce(), prompt="none"))
    assert response.status_code == 302
    q = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT)
    assert q["error"] == "login_required" and q["state"] == "st-1" and q["iss"] == "http://testserver/o"


def test_prompt_none_needing_a_step_up_answers_interaction_required(client: Client) -> None:
    app = make_client(skip_authorization=True, min_acr=AssuranceLevel.TWO_FACTOR)
    login(client, make_person(), acr=AssuranceLevel.VERIFIED)
    response = client.get(authorize_url(app, pkce(), prompt="none"))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT)
    assert query_of(response["Location"])["error"] == "interaction_required"


# --- OIDC Core §6: request objects ---------------------------------------------------------------


def test_request_and_request_uri_are_refused_and_discovery_says_so(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    response = client.get(authorize_url(app, pkce(), request="eyJhbGciOiJub25lIn0.e30."))
    assert query_of(response["Location"])["error"] == "request_not_supported"
    response = client.get(authorize_url(app, pkce(), request_uri="https://rp.test/req.jwt"))
    assert query_of(response["Location"])["error"] == "request_uri_not_supported"
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["request_parameter_supported"] is False
    assert data["request_uri_parameter_supported"] is False


# --- RFC 6750 / RFC 9700: the access token only in the header at userinfo -----------------------


def test_userinfo_refuses_access_token_in_query_or_form_body(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    access = sign_in(client, app)["access_token"]
    api = Client(enforce_csrf_checks=True)
    assert api.get("/o/userinfo/?" + urlencode({"access_token": access})).status_code == 400
    assert api.post("/o/userinfo/", {"access_token": access}).status_code == 400
    assert api.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    # POST with the header stays open to server-side clients (no CSRF token to give).
    assert api.post("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


# --- RFC 6749 §5.2: invalid_client with the scheme the client used ------------------------------


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("/o/token/", {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT}),
        ("/o/revoke_token/", {"token": "x"}),
    ],
)
def test_invalid_client_challenges_with_basic(client: Client, endpoint: str, data: dict[str, str]) -> None:
    make_client()
    response = client.post(
        endpoint, data, HTTP_AUTHORIZATION=_basic("city-fz", "not-the-secret-0123456789-abcdefgh")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic realm=")


# --- discovery advertises only what is served ----------------------------------------------------


def test_discovery_advertises_only_what_is_supported(client: Client) -> None:
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(data["prompt_values_supported"]) == {"none", "login", "consent"}
    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]


# --- registration --------------------------------------------------------------------------------


def _admin_add_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "泉州市网上办事大厅",
        "client_id": "city-qz",
        "client_secret": "q" * 40,
        "hash_client_secret": "on",
        "client_type": "confidential",
        "authorization_grant_type": "authorization-code",
        "redirect_uris": "https://qz.example.gov.cn/callback",
        "post_logout_redirect_uris": "https://qz.example.gov.cn/",
        "allowed_origins": "",
        "algorithm": "RS256",
        "yiwang_settings-TOTAL_FORMS": "1",
        "yiwang_settings-INITIAL_FORMS": "0",
        "yiwang_settings-MIN_NUM_FORMS": "1",
        "yiwang_settings-MAX_NUM_FORMS": "1",
        "yiwang_settings-0-allowed_scopes": "openid profile",
        "yiwang_settings-0-min_acr": "1",
        "yiwang_settings-0-region_code": "350500",
        "yiwang_settings-0-backchannel_logout_uri": "",
        "yiwang_settings-0-introspect_clients": "",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"client_secret": "short-secret"}, "client_secret"),
        ({"authorization_grant_type": "client-credentials"}, "authorization_grant_type"),
        ({"authorization_grant_type": "password"}, "authorization_grant_type"),
        ({"algorithm": "HS256"}, "algorithm"),
    ],
)
def test_admin_registration_refuses_short_secrets_and_unserved_grants(
    client: Client, overrides: dict[str, str], field: str
) -> None:
    admin = get_user_model().objects.create_superuser("root", password="Correct-Horse-9!")
    login_with_second_factor(client, admin)
    good = client.post("/admin/identity/oauthclient/add/", _admin_add_form())
    assert good.status_code == 302, good.context["adminform"].form.errors if good.context else good
    response = client.post(
        "/admin/identity/oauthclient/add/", _admin_add_form(client_id="city-x", **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Application.objects.filter(client_id="city-x").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--client-secret", "short"],
        ["--base-url", "not a url"],
        ["--client-id", "x" * 300],
        ["--base-url", "http://[::1"],
        ["--base-url", "http://127.0.0.1:abc"],
        ["--base-url", "http://127.0.0.1:99999"],
    ],
)
def test_register_city_portal_bad_argument_is_an_error_not_a_traceback(argv: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("register_city_portal", *argv)
    assert not Application.objects.exists()


# --- RFC 8252 §7.3 loopback ports: public native clients only -----------------------------------


def _loopback_client(client_id: str, client_type: str) -> Application:
    app = make_client(client_id, skip_authorization=True)
    app.client_type = client_type
    app.redirect_uris = "http://127.0.0.1:8765/cb"
    app.save()
    return app


@pytest.mark.parametrize(("client_type", "allowed"), [("confidential", False), ("public", True)])
def test_loopback_redirect_any_port_only_for_public_clients(
    client: Client, client_type: str, allowed: bool
) -> None:
    app = _loopback_client("native-app", client_type)
    login(client, make_person())
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "scope": "openid",
        "state": "s",
        "code_challenge": pkce().challenge,
        "code_challenge_method": "S256",
    }
    exact = client.get("/o/authorize/?" + urlencode({**params, "redirect_uri": "http://127.0.0.1:8765/cb"}))
    assert exact.status_code == 302 and exact["Location"].startswith("http://127.0.0.1:8765/cb?code=")
    other_port = client.get(
        "/o/authorize/?" + urlencode({**params, "redirect_uri": "http://127.0.0.1:50123/cb"})
    )
    if allowed:
        assert other_port.status_code == 302
        assert other_port["Location"].startswith("http://127.0.0.1:50123/cb?code=")
    else:
        # Never redirected to an unregistered URI: an error page at the provider.
        assert other_port.status_code == 400
        assert not other_port.has_header("Location")


# --- requests the provider cannot send back: an error page, not an empty consent form ------------


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "nobody-registered-this", "redirect_uri": REDIRECT},
        {"client_id": "native-app", "redirect_uri": "http://127.0.0.1:9999/cb"},
        {"client_id": "native-app", "redirect_uri": "http://127.0.0.1:8765/cb?x=1"},
        {},
    ],
)
def test_unreturnable_authorization_request_shows_an_error_page(client: Client, params: dict) -> None:
    _loopback_client("native-app", "confidential")
    login(client, make_person())
    query = {"response_type": "code", "scope": "openid", "state": "s", **params}
    response = client.get("/o/authorize/?" + urlencode(query))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="consent-error"' in body and "无法完成授权登录" in body
    assert 'id="consent-allow"' not in body and "「」" not in body
