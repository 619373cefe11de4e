"""Two independent OpenID Connect client libraries against the provider over real HTTP
(pytest-django's live_server): authlib's OAuth2Session with its ID-token claims classes, and
pyoidc's ``oic.oic.Client``. Each does discovery, the authorization code flow with PKCE (the
browser's part played by a requests session holding a province login), the token request, ID
token verification, userinfo, a refresh and RP-initiated logout, with the library's own checks
running unmodified: pyoidc compares the ``iss`` of the authorization response with the discovered
issuer and verifies the ID token against the JWKS it fetched; authlib validates the RFC 8414
metadata and the ID token's signature, issuer, audience, nonce and at_hash."""

from __future__ import annotations

import secrets
from html.parser import HTMLParser
from importlib import import_module
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from yiwang.identity.models import AccountSession

from .helpers import REDIRECT, SECRET, make_client, make_person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # authlib.jose is deprecated for joserfc, but its OIDC claims classes still build on it.
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated"),
]
LOGGED_OUT = "http://rp.test/logged-out"


class _Form(HTMLParser):
    """The form of a page with a given id: its action and its inputs (hidden fields, the CSRF
    token)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and self.action is None and a.get("id") == self.form_id:
            self.action = a.get("action") or ""
        elif tag == "input" and self.action is not None and a.get("name") and a.get("type") != "submit":
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.action is not None:
            self._done = True


class Browser:
    """The person's browser: a requests session carrying a province login cookie, following the
    provider's pages but stopping at the relying party (whose callback is not served here)."""

    def __init__(self, user) -> None:
        from yiwang.identity.sessions import start_session

        request = RequestFactory().get("/auth/login/")
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = AnonymousUser()
        self.account_session = start_session(request, user, acr=2, amr=["pwd"])
        request.session.save()
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, request.session.session_key)

    def authorize(self, url: str) -> str:
        """Open the authorization URL, consent if asked; return where the provider sends the
        browser back to the relying party (the callback URL with code, state, iss)."""
        response = self.http.get(url, allow_redirects=False, timeout=30)
        if response.status_code == 200:  # the consent page
            form = _Form("consent-form")
            form.feed(response.text)
            assert form.action is not None, response.text[:500]
            data = {**form.fields, "allow": "1"}
            response = self.http.post(
                urljoin(url, form.action) if form.action else url,
                data=data,
                headers={"Referer": url},
                allow_redirects=False,
                timeout=30,
            )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        location = response.headers["Location"]
        assert location.startswith(REDIRECT), location
        return location

    def end_session(self, url: str, **data: str) -> str:
        """RP-initiated logout by a form POST (RP-Initiated Logout §2), as an RP's page would."""
        response = self.http.post(url, data=data, allow_redirects=False, timeout=30)
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return response.headers["Location"]


@pytest.fixture
def province(live_server):
    app = make_client("city-fz", skip_authorization=False)
    person = make_person()
    return live_server.url, app, person


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _assert_logged_out(browser: Browser, base: str, location: str, state: str) -> None:
    assert location == f"{LOGGED_OUT}?state={state}"
    browser.account_session.refresh_from_db()
    assert browser.account_session.ended_at is not None
    assert not AccountSession.objects.filter(pk=browser.account_session.pk, ended_at__isnull=True).exists()
    # The province no longer knows the browser: an authorization now asks for a login.
    again = browser.http.get(f"{base}/o/authorize/?client_id=city-fz", allow_redirects=False, timeout=30)
    assert again.status_code == 302 and "/login" in again.headers["Location"]


def test_authlib_client_end_to_end(province) -> None:
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, jwt
    from authlib.oauth2 import rfc8414, rfc9207
    from authlib.oidc.core import CodeIDToken

    base, app, person = province
    browser = Browser(person)

    # Discovery: the OpenID document and the RFC 8414 one agree, and the latter validates.
    oidc = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=30).json()
    issuer = oidc["issuer"]
    assert issuer == f"{base}/o"
    metadata = rfc8414.AuthorizationServerMetadata(
        requests.get(f"{base}/.well-known/oauth-authorization-server/o", timeout=30).json()
    )
    metadata.validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
    assert metadata["issuer"] == issuer
    assert metadata["authorization_response_iss_parameter_supported"] is True
    jwks = JsonWebKey.import_key_set(requests.get(oidc["jwks_uri"], timeout=30).json())

    session = OAuth2Session(
        app.client_id,
        SECRET,
        scope="openid profile",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(
        oidc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    callback = browser.authorize(url)
    # RFC 9207 §2.4: the client compares iss with the issuer it started from.
    assert _query(callback)["iss"] == issuer
    token = session.fetch_token(
        oidc["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
    )

    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={"nonce": nonce, "client_id": app.client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    assert claims["sub"] == str(person.pk)
    assert claims["aud"] == app.client_id or app.client_id in claims["aud"]

    userinfo = session.get(oidc["userinfo_endpoint"], timeout=30)
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == claims["sub"]

    old_access = token["access_token"]
    refreshed = session.refresh_token(oidc["token_endpoint"])
    assert refreshed["access_token"] != old_access
    assert session.get(oidc["userinfo_endpoint"], timeout=30).json()["sub"] == claims["sub"]
    # The refreshed ID token (if any) names the same issuer and person.
    if "id_token" in refreshed:
        again = jwt.decode(refreshed["id_token"], jwks)
        assert again["iss"] == issuer and again["sub"] == claims["sub"]

    location = browser.end_session(
        oidc["end_session_endpoint"],
        id_token_hint=token["id_token"],
        post_logout_redirect_uri=LOGGED_OUT,
        state="authlib-bye",
    )
    _assert_logged_out(browser, base, location, "authlib-bye")
    # The province revoked the session's tokens on the way out.
    assert session.get(oidc["userinfo_endpoint"], timeout=30).status_code == 401


def test_pyoidc_client_end_to_end(province) -> None:
    from oic import rndstr
    from oic.oic import Client
    from oic.oic.message import AccessTokenResponse, AuthorizationResponse, OpenIDSchema, RegistrationResponse
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    base, app, person = province
    browser = Browser(person)

    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    provider = client.provider_config(f"{base}/o")  # fetches the JWKS into its keyjar too
    issuer = provider["issuer"]
    assert issuer == f"{base}/o"
    client.store_registration_info(
        RegistrationResponse(
            client_id=app.client_id,
            client_secret=SECRET,
            redirect_uris=[REDIRECT],
            token_endpoint_auth_method="client_secret_basic",
        )
    )
    client.redirect_uris = [REDIRECT]

    state, nonce = rndstr(), rndstr()
    pkce_args, verifier = client.add_code_challenge()
    request_args = {
        "response_type": "code",
        "scope": ["openid", "profile"],
        "state": state,
        "nonce": nonce,
        "redirect_uri": REDIRECT,
        **pkce_args,
    }
    url = client.construct_AuthorizationRequest(request_args=request_args).request(
        client.authorization_endpoint
    )
    callback = browser.authorize(url)

    # pyoidc checks iss against the discovered issuer (and state) here.
    aresp = client.parse_response(AuthorizationResponse, info=urlparse(callback).query, sformat="urlencoded")
    assert aresp["state"] == state and aresp["iss"] == issuer

    tokens = client.do_access_token_request(
        state=state,
        request_args={"code": aresp["code"], "redirect_uri": REDIRECT, "code_verifier": verifier},
        authn_method="client_secret_basic",
    )
    assert isinstance(tokens, AccessTokenResponse), tokens
    # Verified by pyoidc on parsing: signature (keyjar), iss, aud, exp, nonce.
    id_token = tokens["id_token"]
    assert id_token["iss"] == issuer and id_token["nonce"] == nonce
    assert id_token["sub"] == str(person.pk)

    # pyoidc's default puts the token in a POSTed form body, which the provider refuses (RFC 9700
    # §4.3.2); by GET it sends the Authorization header.
    refused = client.do_user_info_request(state=state)
    assert refused["error"] == "invalid_request"
    userinfo = client.do_user_info_request(method="GET", state=state)
    assert isinstance(userinfo, OpenIDSchema), userinfo
    assert userinfo["sub"] == id_token["sub"]

    first_access = tokens["access_token"]
    refreshed = client.do_access_token_refresh(state=state, authn_method="client_secret_basic")
    assert isinstance(refreshed, AccessTokenResponse), refreshed
    assert refreshed["access_token"] != first_access
    assert client.do_user_info_request(method="GET", state=state)["sub"] == id_token["sub"]

    end_session = client.construct_EndSessionRequest(
        state=state,
        request_args={"post_logout_redirect_uri": LOGGED_OUT, "state": "pyoidc-bye"},
    )
    assert end_session["id_token_hint"]  # pyoidc fills in the ID token it holds for this state
    location = browser.end_session(client.end_session_endpoint, **end_session.to_dict())
    _assert_logged_out(browser, base, location, "pyoidc-bye")


def test_pyoidc_rejects_a_response_from_another_issuer(province) -> None:
    """The mix-up defence the provider's iss enables: pyoidc drops a response naming another
    issuer (so the provider's own iss must be exactly the discovered one, as above)."""
    from oic.oic import Client
    from oic.oic.message import AuthorizationResponse
    from oic.utils.authn.client import CLIENT_AUTHN_METHOD

    base, app, _person = province
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(f"{base}/o")
    client.client_id = app.client_id
    forged = f"code=abc&state=s&iss=https%3A%2F%2Fattacker.example%2Fo&nonce={secrets.token_hex(4)}"
    with pytest.raises(Exception, match="(?i)issuer"):
        client.parse_response(AuthorizationResponse, info=forged, sformat="urlencoded")
