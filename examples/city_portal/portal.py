"""福州市 city portal: a small relying party of yiwang's OpenID Connect provider.

A plain WSGI application (standard library + requests + jwcrypto) so that nothing here depends on
yiwang's own code: it talks to the province only over HTTP, as a city platform would.

- /login            authorization code flow with PKCE (S256), state and nonce
- /callback         code -> tokens at the token endpoint, ID token verified against the JWKS
- /                 who is logged in here (name, masked ID, acr)
- /logout           RP-initiated logout at the province (id_token_hint, post_logout_redirect_uri)
- /backchannel-logout  OpenID Connect Back-Channel Logout 1.0: validates the logout token and
                    ends the matching local sessions (kept server side, indexed by sid and sub)
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from jwcrypto import jwk, jws, jwt

EVENT = "http://schemas.openid.net/event/backchannel-logout"
COOKIE = "city_session"
MAX_LOGOUT_TOKEN_AGE = 300  # seconds; older logout tokens are refused (replay window)


class TokenError(Exception):
    pass


@dataclass
class Config:
    issuer: str  # e.g. http://127.0.0.1:8000/o
    client_id: str
    client_secret: str
    base_url: str  # where this portal is reachable, e.g. http://127.0.0.1:8001
    scope: str = "openid profile"
    title: str = "福州市 city portal"


@dataclass
class Session:
    sid: str  # the province session id ("sid" claim)
    sub: str
    claims: dict[str, Any]
    id_token: str
    created: float = field(default_factory=time.time)


class Store:
    """Server-side sessions, so a back-channel logout (which carries no cookie) can end them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.pending: dict[str, dict[str, str]] = {}  # state -> verifier, nonce
        self.seen_jti: dict[str, float] = {}

    def end_where(self, *, sid: str | None, sub: str | None) -> int:
        with self.lock:
            doomed = [
                key
                for key, s in self.sessions.items()
                if (sid and s.sid == sid) or (not sid and sub and s.sub == sub)
            ]
            for key in doomed:
                del self.sessions[key]
            return len(doomed)

    def first_use_of(self, jti: str) -> bool:
        now = time.time()
        with self.lock:
            for old in [k for k, t in self.seen_jti.items() if now - t > 2 * MAX_LOGOUT_TOKEN_AGE]:
                del self.seen_jti[old]
            if jti in self.seen_jti:
                return False
            self.seen_jti[jti] = now
            return True


class Provider:
    """Discovery and JWKS of the issuer, fetched on first use and refreshed on an unknown kid."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer.rstrip("/")
        self._meta: dict[str, Any] | None = None
        self._keys: jwk.JWKSet | None = None

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
            response.raise_for_status()
            meta = response.json()
            if meta["issuer"].rstrip("/") != self.issuer:
                raise TokenError(f"discovery names issuer {meta['issuer']}, expected {self.issuer}")
            self._meta = meta
        return self._meta

    def keys(self, refresh: bool = False) -> jwk.JWKSet:
        if self._keys is None or refresh:
            response = requests.get(self.meta["jwks_uri"], timeout=5)
            response.raise_for_status()
            self._keys = jwk.JWKSet.from_json(response.text)
        return self._keys

    def verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the RS256 signature against the JWKS; returns (header, claims) unchecked otherwise."""
        try:
            parsed = jws.JWS()
            parsed.deserialize(token)
            header = parsed.jose_header
        except Exception as exc:
            raise TokenError("not a JWS") from exc
        if header.get("alg") != "RS256":
            raise TokenError("alg must be RS256")
        for refresh in (False, True):
            try:
                keys = self.keys(refresh=refresh)
            except requests.RequestException as exc:
                raise TokenError("cannot fetch the issuer's keys") from exc
            key = keys.get_key(header.get("kid")) if header.get("kid") else None
            if key is not None:
                break
        else:
            raise TokenError("unknown signing key")
        try:
            checked = jwt.JWT(jwt=token, key=key, algs=["RS256"], check_claims=False)
        except Exception as exc:
            raise TokenError("bad signature") from exc
        return header, json.loads(checked.claims)


def validate_id_token(provider: Provider, cfg: Config, token: str, nonce: str) -> dict[str, Any]:
    _, claims = provider.verify(token)
    now = time.time()
    if claims.get("iss") != provider.meta["issuer"]:
        raise TokenError("iss")
    aud = claims.get("aud")
    if cfg.client_id not in (aud if isinstance(aud, list) else [aud]):
        raise TokenError("aud")
    if claims.get("exp", 0) < now - 30:
        raise TokenError("expired")
    if claims.get("nonce") != nonce:
        raise TokenError("nonce")
    return claims


def validate_logout_token(provider: Provider, cfg: Config, token: str) -> dict[str, Any]:
    """Back-Channel Logout 1.0 §2.6: signature, typ, iss, aud, iat, events, sid/sub, no nonce."""
    header, claims = provider.verify(token)
    now = time.time()
    if header.get("typ") != "logout+jwt":
        raise TokenError("typ must be logout+jwt")
    if claims.get("iss") != provider.meta["issuer"]:
        raise TokenError("iss")
    aud = claims.get("aud")
    if cfg.client_id not in (aud if isinstance(aud, list) else [aud]):
        raise TokenError("aud")
    iat = claims.get("iat")
    if not isinstance(iat, int) or iat > now + 60 or iat < now - MAX_LOGOUT_TOKEN_AGE:
        raise TokenError("iat")
    if "exp" in claims and claims["exp"] < now - 30:
        raise TokenError("expired")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(EVENT), dict):
        raise TokenError("events")
    if "nonce" in claims:
        raise TokenError("nonce is forbidden in a logout token")
    if not claims.get("sid") and not claims.get("sub"):
        raise TokenError("sid or sub required")
    if not claims.get("jti"):
        raise TokenError("jti")
    return claims


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


PAGE = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}}
.btn{{display:inline-block;padding:.5rem 1rem;border:1px solid #1656a3;border-radius:4px;color:#1656a3;text-decoration:none}}
.status{{font-size:1.2rem}}</style></head><body><header><h1>{title}</h1></header><main>{body}</main></body></html>"""


class CityPortal:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.provider = Provider(cfg.issuer)
        self.store = Store()

    # --- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if path == "/" and method == "GET":
                status, headers, body = self.home(environ)
            elif path == "/login":
                status, headers, body = self.login(environ)
            elif path == "/callback":
                status, headers, body = self.callback(environ)
            elif path == "/logout":
                status, headers, body = self.logout(environ)
            elif path == "/backchannel-logout" and method == "POST":
                status, headers, body = self.backchannel_logout(environ)
            else:
                status, headers, body = "404 Not Found", [], self.page("<p>页面不存在。</p>")
        except requests.RequestException as exc:
            status, headers, body = (
                "502 Bad Gateway",
                [],
                self.page(f"<p>无法连接统一身份认证平台：{html.escape(type(exc).__name__)}</p>"),
            )
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        data = body.encode() if isinstance(body, str) else body
        headers.append(("Content-Length", str(len(data))))
        start_response(status, headers)
        return [data]

    def page(self, body: str) -> str:
        return PAGE.format(title=html.escape(self.cfg.title), body=body)

    def session_of(self, environ) -> tuple[str | None, Session | None]:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        key = cookie[COOKIE].value if COOKIE in cookie else None
        with self.store.lock:
            return key, self.store.sessions.get(key) if key else None

    # --- pages -----------------------------------------------------------------------------------
    def home(self, environ):
        _, session = self.session_of(environ)
        if session is None:
            body = (
                '<p class="status" id="status">未登录（not logged in）</p>'
                '<p><a class="btn" id="login" href="/login">使用省统一身份认证登录</a></p>'
            )
        else:
            c = session.claims
            company = c.get("act_as")
            body = (
                f'<p class="status" id="status">{html.escape(self.cfg.title)}: logged in as '
                f'<strong id="who">{html.escape(str(c.get("name", c.get("sub"))))}</strong> '
                f'(acr <span id="acr">{html.escape(str(c.get("acr", "")))}</span>)</p>'
                f"<p>身份证号：{html.escape(str(c.get('id_number_masked', '—')))}</p>"
                + (
                    f"<p>代理法人：{html.escape(company['name'])}（{html.escape(company['credit_code'])}）</p>"
                    if company
                    else ""
                )
                + '<p><a class="btn" id="logout" href="/logout">退出登录</a></p>'
            )
        return "200 OK", [("Cache-Control", "no-store")], self.page(body)

    def login(self, environ):
        meta = self.provider.meta
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier, challenge = pkce_pair()
        with self.store.lock:
            self.store.pending[state] = {"verifier": verifier, "nonce": nonce, "at": str(time.time())}
        params = {
            "response_type": "code",
            "client_id": self.cfg.client_id,
            "redirect_uri": f"{self.cfg.base_url}/callback",
            "scope": self.cfg.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return "302 Found", [("Location", f"{meta['authorization_endpoint']}?{urlencode(params)}")], ""

    def callback(self, environ):
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.store.lock:
            pending = self.store.pending.pop(q.get("state", ""), None)
        if pending is None:
            return "400 Bad Request", [], self.page("<p>登录请求已失效，请重新登录。</p>")
        # RFC 9207 §2.4: the province names itself in every authorization response; a response
        # naming another issuer (or none) is not the province's and is dropped (mix-up attacks).
        if q.get("iss") != self.provider.meta["issuer"]:
            return "403 Forbidden", [], self.page("<p>登录响应的签发方不符，已拒绝。</p>")
        if "error" in q:
            return (
                "403 Forbidden",
                [],
                self.page(f'<p>登录未完成：{html.escape(q["error"])}</p><p><a href="/">返回</a></p>'),
            )
        response = requests.post(
            self.provider.meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": q.get("code", ""),
                "redirect_uri": f"{self.cfg.base_url}/callback",
                "code_verifier": pending["verifier"],
            },
            auth=(self.cfg.client_id, self.cfg.client_secret),
            timeout=10,
        )
        if response.status_code != 200:
            return (
                "502 Bad Gateway",
                [],
                self.page(f"<p>换取令牌失败：{html.escape(response.text[:200])}</p>"),
            )
        tokens = response.json()
        try:
            claims = validate_id_token(self.provider, self.cfg, tokens["id_token"], pending["nonce"])
        except (TokenError, KeyError) as exc:
            return "403 Forbidden", [], self.page(f"<p>ID 令牌无效：{html.escape(str(exc))}</p>")
        key = secrets.token_urlsafe(32)
        with self.store.lock:
            self.store.sessions[key] = Session(
                sid=claims.get("sid", ""), sub=claims["sub"], claims=claims, id_token=tokens["id_token"]
            )
        cookie = f"{COOKIE}={key}; Path=/; HttpOnly; SameSite=Lax"
        return "302 Found", [("Location", "/"), ("Set-Cookie", cookie)], ""

    def logout(self, environ):
        key, session = self.session_of(environ)
        expire = f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        if session is None:
            return "302 Found", [("Location", "/"), ("Set-Cookie", expire)], ""
        with self.store.lock:
            self.store.sessions.pop(key, None)
        params = {
            "id_token_hint": session.id_token,
            "post_logout_redirect_uri": f"{self.cfg.base_url}/",
            "state": secrets.token_urlsafe(8),
        }
        target = f"{self.provider.meta['end_session_endpoint']}?{urlencode(params)}"
        return "302 Found", [("Location", target), ("Set-Cookie", expire)], ""

    def backchannel_logout(self, environ):
        headers = [("Cache-Control", "no-store"), ("Content-Type", "application/json")]
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        form = parse_qs(environ["wsgi.input"].read(min(size, 64 * 1024)).decode("utf-8", "replace"))
        token = (form.get("logout_token") or [""])[0]
        try:
            claims = validate_logout_token(self.provider, self.cfg, token)
        except TokenError as exc:
            return (
                "400 Bad Request",
                headers,
                json.dumps({"error": "invalid_request", "error_description": str(exc)}),
            )
        if not self.store.first_use_of(claims["jti"]):
            return (
                "400 Bad Request",
                headers,
                json.dumps({"error": "invalid_request", "error_description": "replayed"}),
            )
        ended = self.store.end_where(sid=claims.get("sid"), sub=claims.get("sub"))
        return "200 OK", headers, json.dumps({"ended": ended})
