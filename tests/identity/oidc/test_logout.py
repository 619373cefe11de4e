"""Logout: logout token shape (Back-Channel Logout 1.0 §2.4), back-channel delivery when a
province session ends, RP-initiated logout."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model

from yiwang.identity.models import AccountSession, RelyingPartySession
from yiwang.identity.oidc.backchannel import EVENT, build_logout_token, notify_logout

from .helpers import SECRET, login, make_client, make_person, query_of, sign_in, verify

pytestmark = pytest.mark.django_db


class _Receiver:
    def __init__(self, status: int = 200) -> None:
        self.tokens: list[str] = []
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.content_types.append(self.headers.get("Content-Type", ""))
                receiver.tokens.extend(parse_qs(body).get("logout_token", []))
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.server.shutdown()


def test_logout_token_shape_and_signature(client: Client) -> None:
    token = build_logout_token(issuer="http://testserver/o", client_id="city-fz", sub="42", sid="abc")
    header, claims = verify(client, token)
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == "RS256"
    assert header["kid"] == client.get("/o/.well-known/jwks.json").json()["keys"][0]["kid"]
    assert claims["iss"] == "http://testserver/o"
    assert claims["aud"] == "city-fz"
    assert claims["sub"] == "42" and claims["sid"] == "abc"
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 120
    assert abs(claims["iat"] - time.time()) < 60  # a loaded CI machine can be slow
    assert len(claims["jti"]) >= 16


def test_ending_the_province_session_notifies_relying_parties(
    client: Client, receiver: _Receiver, django_capture_on_commit_callbacks
) -> None:
    from yiwang.identity.sessions import end_session

    with_bc = make_client("city-fz", backchannel=receiver.url, skip_authorization=True)
    without_bc = make_client("city-xm", skip_authorization=True, name="厦门市")
    user = make_person()
    account_session = login(client, user)
    tokens = sign_in(client, with_bc)
    sign_in(client, without_bc)
    with django_capture_on_commit_callbacks(execute=True):
        end_session(account_session, reason="logout")
    assert len(receiver.tokens) == 1
    assert receiver.content_types[0].startswith("application/x-www-form-urlencoded")
    header, claims = verify(client, receiver.tokens[0])
    assert header["typ"] == "logout+jwt"
    assert claims["aud"] == "city-fz"
    assert claims["sid"] == account_session.sid
    assert claims["sub"] == str(user.pk)
    _, id_claims = verify(client, tokens["id_token"])
    assert claims["iss"] == id_claims["iss"]  # the issuer the relying party knows
    rp = RelyingPartySession.objects.get(application=with_bc)
    assert rp.logout_status == "200" and rp.logout_sent_at is not None
    # the session's tokens stop working
    assert not get_access_token_model().objects.filter(user=user).exists()
    assert Client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    ).status_code in (401, 403)
    refreshed = Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": with_bc.client_id,
            "client_secret": SECRET,
        },
    )
    assert refreshed.status_code == 400  # no new tokens from an ended session


def test_unreachable_relying_party_is_recorded_not_raised(client: Client) -> None:
    app = make_client(backchannel="http://127.0.0.1:9/backchannel-logout", skip_authorization=True)
    account_session = login(client, make_person())
    sign_in(client, app)
    deliveries = notify_logout(account_session)
    assert len(deliveries) == 1 and not deliveries[0].ok
    assert RelyingPartySession.objects.get().logout_status not in ("", "200")


def test_rp_initiated_logout_ends_the_session_and_tells_the_others(
    client: Client, receiver: _Receiver, django_capture_on_commit_callbacks
) -> None:
    leaving = make_client("city-fz", skip_authorization=True)
    other = make_client("city-xm", backchannel=receiver.url, skip_authorization=True, name="厦门市")
    account_session = login(client, make_person())
    tokens = sign_in(client, leaving)
    sign_in(client, other)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            "/o/logout/",
            {
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": "http://rp.test/logged-out",
                "state": "bye",
            },
        )
    assert response.status_code == 302
    assert response["Location"].startswith("http://rp.test/logged-out")
    assert query_of(response["Location"])["state"] == "bye"
    assert AccountSession.objects.get(pk=account_session.pk).ended_at is not None
    assert len(receiver.tokens) == 1
    assert verify(client, receiver.tokens[0])[1]["aud"] == "city-xm"
    # the browser is logged out at the province too
    assert not client.session.get("_auth_user_id")


def test_rp_initiated_logout_refuses_unregistered_redirect(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    tokens = sign_in(client, app)
    response = client.get(
        "/o/logout/", {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "http://evil.test/"}
    )
    assert response.status_code == 400
    assert "evil.test" not in response.get("Location", "")
