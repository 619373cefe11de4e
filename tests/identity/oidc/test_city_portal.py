"""The example relying party's logout-token validation refuses every malformed token."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from jwcrypto import jwk, jwt

from yiwang.identity.oidc.backchannel import EVENT, build_logout_token, signing_key

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "city_portal"))
import portal  # noqa: E402

ISS = "http://testserver/o"


@pytest.fixture
def provider(client: Client) -> portal.Provider:
    p = portal.Provider(ISS)
    p._meta = client.get("/o/.well-known/openid-configuration").json()
    p._keys = jwk.JWKSet.from_json(client.get("/o/.well-known/jwks.json").content)
    return p


CFG = portal.Config(issuer=ISS, client_id="city-fz", client_secret="x", base_url="http://rp.test")


def _token(header: dict | None = None, key: jwk.JWK | None = None, **claims) -> str:
    now = int(time.time())
    body = {
        "iss": ISS,
        "aud": "city-fz",
        "iat": now,
        "exp": now + 120,
        "jti": "j1",
        "sid": "s1",
        "events": {EVENT: {}},
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    key = key or signing_key()
    h = {"typ": "logout+jwt", "alg": "RS256", "kid": key.thumbprint(), **(header or {})}
    t = jwt.JWT(header=json.dumps(h), claims=json.dumps(body))
    t.make_signed_token(key)
    return t.serialize()


def test_accepts_the_providers_logout_token(provider) -> None:
    token = build_logout_token(issuer=ISS, client_id="city-fz", sub="7", sid="s1")
    claims = portal.validate_logout_token(provider, CFG, token)
    assert claims["sid"] == "s1"


@pytest.mark.parametrize(
    "make",
    [
        lambda: _token(header={"typ": "JWT"}),
        lambda: _token(nonce="n"),
        lambda: _token(aud="someone-else"),
        lambda: _token(iss="http://evil.test/o"),
        lambda: _token(events=None),
        lambda: _token(events={"http://example.com/other": {}}),
        lambda: _token(iat=int(time.time()) - 3600),
        lambda: _token(sid=None),
        lambda: _token(jti=None),
        lambda: _token(key=jwk.JWK.generate(kty="RSA", size=2048)),
        lambda: "not.a.token",
    ],
    ids=[
        "typ",
        "nonce",
        "aud",
        "iss",
        "no-events",
        "wrong-event",
        "old-iat",
        "no-sid-sub",
        "no-jti",
        "foreign-key",
        "garbage",
    ],
)
def test_refuses_bad_logout_tokens(provider, make) -> None:
    with pytest.raises(portal.TokenError):
        portal.validate_logout_token(provider, CFG, make())


def test_logout_ends_only_the_named_session() -> None:
    store = portal.Store()
    store.sessions["a"] = portal.Session(sid="s1", sub="7", claims={}, id_token="")
    store.sessions["b"] = portal.Session(sid="s2", sub="7", claims={}, id_token="")
    assert store.end_where(sid="s1", sub="7") == 1
    assert list(store.sessions) == ["b"]
    assert store.first_use_of("j1") and not store.first_use_of("j1")


@pytest.mark.parametrize("iss", [None, "http://evil.test/o"])
def test_callback_drops_a_response_without_the_provinces_iss(provider, monkeypatch, iss) -> None:
    app = portal.CityPortal(CFG)
    app.provider = provider
    app.store.pending["st"] = {"verifier": "v", "nonce": "n", "at": str(time.time())}
    posted: list[str] = []
    monkeypatch.setattr(portal.requests, "post", lambda url, **kw: posted.append(url))
    query = "code=c&state=st" + (f"&iss={iss}" if iss else "")
    status, _headers, _body = app.callback({"QUERY_STRING": query})
    assert status.startswith("403")
    assert posted == []  # the code is never sent to the token endpoint
