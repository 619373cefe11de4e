"""Helpers for the OIDC provider tests: people, clients, PKCE, a real login session, the code flow."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import parse_qs, urlencode, urlparse

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from jwcrypto import jwk, jwt
from oauth2_provider.models import get_application_model

from yiwang.core.crypto import blind_index, encrypt, mask_id_number, mask_phone
from yiwang.identity.models import AccountSession, AssuranceLevel, ClientSettings, Person

Application = get_application_model()
REDIRECT = "http://rp.test/callback"
SECRET = "city-portal-test-secret-0123456789"


def make_person(
    username: str = "zhangsan",
    name: str = "张三",
    id_number: str = "11010519491231002X",
    level: int = AssuranceLevel.VERIFIED,
    phone: str = "13800138000",
):
    user = get_user_model().objects.create_user(username=username, password="Correct-Horse-9!")
    Person.objects.create(
        user=user,
        name=name,
        id_number_cipher=encrypt(id_number, context="person.id_number"),
        id_number_hash=blind_index(id_number, purpose="id_number"),
        id_number_masked=mask_id_number(id_number),
        phone_cipher=encrypt(phone, context="person.phone"),
        phone_hash=blind_index(phone, purpose="phone"),
        phone_masked=mask_phone(phone),
        assurance_level=level,
        key_id="k1",
    )
    return user


def make_client(
    client_id: str = "city-fz",
    *,
    scopes: str = "openid profile phone company account",
    min_acr: int = AssuranceLevel.REGISTERED,
    backchannel: str = "",
    skip_authorization: bool = False,
    name: str = "福州市网上办事大厅",
):
    app = Application.objects.create(
        name=name,
        client_id=client_id,
        client_secret=SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
        post_logout_redirect_uris="http://rp.test/logged-out",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=skip_authorization,
    )
    ClientSettings.objects.create(
        application=app, allowed_scopes=scopes, min_acr=min_acr, backchannel_logout_uri=backchannel
    )
    return app


def login(
    client: Client, user, *, acr: int = AssuranceLevel.VERIFIED, amr: list[str] | None = None
) -> AccountSession:
    """A real tracked login (identity.sessions.start_session) whose cookie the test client carries."""
    from yiwang.identity.sessions import start_session

    request = RequestFactory().get("/auth/login/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    account_session = start_session(request, user, acr=acr, amr=amr or ["pwd"])
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return account_session


@dataclass
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


def authorize_url(app, p: Pkce | None, scope: str = "openid profile", **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-1",
        "nonce": "n-1",
    }
    if p is not None:
        params.update(code_challenge=p.challenge, code_challenge_method="S256")
    params.update(extra)
    return "/o/authorize/?" + urlencode(params)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def code_from(response) -> str:
    assert response.status_code == 302, response.content[:500]
    q = query_of(response["Location"])
    assert "code" in q, q
    return q["code"]


def exchange(client: Client, app, code: str, verifier: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": app.client_id,
        "client_secret": SECRET,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/o/token/", data)


def sign_in(client: Client, app, scope: str = "openid profile", **extra: str) -> dict:
    """authorize (with consent already given or skipped) -> token; returns the token response."""
    p = pkce()
    response = client.get(authorize_url(app, p, scope, **extra))
    if response.status_code == 200:  # the consent page
        response = client.post(authorize_url(app, p, scope, **extra), consent_form(response, allow=True))
    code = code_from(response)
    tokens = exchange(client, app, code, p.verifier)
    assert tokens.status_code == 200, tokens.content
    return tokens.json()


def consent_form(response, *, allow: bool, act_as: int | None = None) -> dict:
    form = response.context["form"]
    data = {name: (form.initial.get(name) or "") for name in form.fields if name not in ("allow", "act_as")}
    if isinstance(data.get("scope"), list):
        data["scope"] = " ".join(data["scope"])
    if allow:
        data["allow"] = "1"
    if act_as is not None:
        data["act_as"] = str(act_as)
    return data


def jwks(client: Client) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(client.get("/o/.well-known/jwks.json").content)


def verify(client: Client, token: str) -> tuple[dict, dict]:
    """Verify a JWT against the provider's published JWKS; returns (header, claims)."""
    t = jwt.JWT(jwt=token, key=jwks(client), expected_type="JWS", check_claims=False)
    return json.loads(t.header), json.loads(t.claims)
