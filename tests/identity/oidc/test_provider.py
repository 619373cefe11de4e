"""The OpenID Connect provider end to end through Django's test client and the real token endpoint."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import get_access_token_model

from yiwang.identity.models import (
    AssuranceLevel,
    Company,
    Consent,
    IdTokenContext,
    Mandate,
    RelyingPartySession,
)

from .helpers import (
    REDIRECT,
    authorize_url,
    code_from,
    consent_form,
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


def test_discovery_advertises_endpoints_pkce_and_backchannel_logout(client: Client) -> None:
    data = client.get("/o/.well-known/openid-configuration").json()
    assert data["issuer"] == "http://testserver/o"
    assert data["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert data["token_endpoint"] == "http://testserver/o/token/"
    assert data["userinfo_endpoint"] == "http://testserver/o/userinfo/"
    assert data["jwks_uri"] == "http://testserver/o/.well-known/jwks.json"
    assert data["end_session_endpoint"] == "http://testserver/o/logout/"
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in data["id_token_signing_alg_values_supported"]
    assert data["backchannel_logout_supported"] is True
    assert data["backchannel_logout_session_supported"] is True
    assert data["acr_values_supported"] == ["urn:yiwang:acr:1", "urn:yiwang:acr:2", "urn:yiwang:acr:3"]
    for claim in ("acr", "sid", "id_number_masked", "act_as"):
        assert claim in data["claims_supported"]


def test_jwks_publishes_the_rsa_signing_key(client: Client) -> None:
    keys = client.get("/o/.well-known/jwks.json").json()["keys"]
    assert len(keys) >= 1
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig"
    assert "d" not in keys[0]  # never the private part


def test_unauthenticated_authorize_goes_to_login_with_next(client: Client, settings) -> None:
    settings.LOGIN_URL = "/auth/login/"
    app = make_client()
    url = authorize_url(app, pkce())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/?next=")
    assert response["Location"].startswith("/auth/login/?next=/o/authorize/%3F")


@pytest.mark.parametrize("method", [None, "plain"])
def test_pkce_s256_is_required(client: Client, method: str | None) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    p = pkce()
    extra = {"code_challenge": p.verifier}
    if method:
        extra["code_challenge_method"] = method
    response = client.get(authorize_url(app, None, **extra))
    assert response.status_code == 302
    q = query_of(response["Location"])
    assert "code" not in q
    assert q["error"] == "invalid_request"


def test_token_refused_without_or_with_wrong_verifier(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    p = pkce()
    code = code_from(client.get(authorize_url(app, p)))
    assert exchange(client, app, code, None).status_code == 400
    code = code_from(client.get(authorize_url(app, p)))
    assert exchange(client, app, code, "x" * 50).status_code == 400
    code = code_from(client.get(authorize_url(app, p)))
    assert exchange(client, app, code, p.verifier).status_code == 200


def test_id_token_claims_acr_sid_masked_id_and_signature(client: Client) -> None:
    app = make_client(skip_authorization=True)
    user = make_person()
    account_session = login(client, user, acr=AssuranceLevel.TWO_FACTOR, amr=["pwd", "otp"])
    tokens = sign_in(client, app, "openid profile phone")
    header, claims = verify(client, tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "http://testserver/o"
    assert claims["aud"] == app.client_id
    assert claims["sub"] == str(user.pk)
    assert claims["nonce"] == "n-1"
    assert claims["acr"] == "urn:yiwang:acr:3"
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["sid"] == account_session.sid
    assert claims["auth_time"] == int(account_session.created_at.timestamp()) or claims["auth_time"] > 0
    assert claims["name"] == "张三"
    assert claims["id_number_masked"] == "1****************X"
    assert claims["phone_number_masked"] == "138****8000"
    assert "11010519491231002X" not in str(claims)
    # the relying party is remembered for back-channel logout
    assert RelyingPartySession.objects.filter(account_session=account_session, application=app).exists()
    assert IdTokenContext.objects.get().acr == AssuranceLevel.TWO_FACTOR


def test_claims_follow_scopes(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    tokens = sign_in(client, app, "openid")
    _, claims = verify(client, tokens["id_token"])
    assert "acr" in claims and "sid" in claims
    assert "name" not in claims and "id_number_masked" not in claims and "phone_number_masked" not in claims


def test_userinfo_returns_the_same_masked_claims(client: Client) -> None:
    app = make_client(skip_authorization=True)
    account_session = login(client, make_person())
    tokens = sign_in(client, app, "openid profile")
    api = Client()
    response = api.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "张三"
    assert data["id_number_masked"] == "1****************X"
    assert data["acr"] == "urn:yiwang:acr:2"
    assert data["sid"] == account_session.sid
    assert "phone_number_masked" not in data
    assert api.get("/o/userinfo/", HTTP_AUTHORIZATION="Bearer nope").status_code in (401, 403)


def test_scope_not_allowed_for_client_is_refused(client: Client) -> None:
    app = make_client(scopes="openid profile", skip_authorization=True)
    login(client, make_person())
    response = client.get(authorize_url(app, pkce(), "openid profile company"))
    assert response.status_code == 302
    q = query_of(response["Location"])
    assert q["error"] == "invalid_scope" and "code" not in q


def test_consent_asked_once_then_remembered_and_asked_again_for_more(client: Client) -> None:
    app = make_client()
    user = make_person()
    login(client, user)
    p = pkce()
    page = client.get(authorize_url(app, p, "openid profile"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "福州市网上办事大厅" in body and "姓名、脱敏身份证号、认证等级" in body
    code_from(client.post(authorize_url(app, p, "openid profile"), consent_form(page, allow=True)))
    assert Consent.objects.get(user=user, application=app).scopes == "openid profile"
    # same or fewer scopes: no page
    code_from(client.get(authorize_url(app, pkce(), "openid")))
    # more scopes: asked again
    assert client.get(authorize_url(app, pkce(), "openid profile phone")).status_code == 200
    # prompt=none without consent for that: an error, not a page
    response = client.get(authorize_url(app, pkce(), "openid phone", prompt="none"))
    assert query_of(response["Location"])["error"] == "consent_required"


def test_consent_denied_returns_access_denied(client: Client) -> None:
    app = make_client()
    login(client, make_person())
    p = pkce()
    page = client.get(authorize_url(app, p))
    response = client.post(authorize_url(app, p), consent_form(page, allow=False))
    assert query_of(response["Location"])["error"] == "access_denied"
    assert not Consent.objects.exists()


def test_consent_revoked_from_the_list_revokes_tokens(client: Client) -> None:
    app = make_client()
    user = make_person()
    login(client, user)
    sign_in(client, app)
    consent = Consent.objects.get(user=user)
    page = client.get("/o/consents/")
    assert page.status_code == 200 and "福州市网上办事大厅" in page.content.decode()
    other = make_person("lisi", "李四", "110105194912310029")
    other_client = Client()
    login(other_client, other)
    other_client.post(f"/o/consents/{consent.pk}/revoke/")
    assert Consent.objects.filter(pk=consent.pk).exists()  # not theirs
    client.post(f"/o/consents/{consent.pk}/revoke/")
    assert not Consent.objects.filter(pk=consent.pk).exists()
    assert not get_access_token_model().objects.filter(user=user, application=app).exists()
    assert client.get(authorize_url(app, pkce())).status_code == 200  # asked again


def _company_with_agent(agent_user, all_items: bool = True) -> Company:
    from datetime import timedelta

    from django.utils import timezone

    boss = make_person("boss", "王五", "110105194912310045")
    company = Company.objects.create(
        name="福州示例科技有限公司", credit_code="91350100MA2XXXXX1X", legal_representative=boss.person
    )
    Mandate.objects.create(
        company=company,
        agent=agent_user.person,
        all_items=all_items,
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=30),
        granted_by=boss.person,
    )
    return company


def test_company_scope_carries_the_company_chosen_at_consent(client: Client) -> None:
    app = make_client()
    user = make_person()
    company = _company_with_agent(user)
    login(client, user)
    p = pkce()
    page = client.get(authorize_url(app, p, "openid profile company"))
    assert "福州示例科技有限公司" in page.content.decode()
    code = code_from(
        client.post(
            authorize_url(app, p, "openid profile company"), consent_form(page, allow=True, act_as=company.pk)
        )
    )
    tokens = exchange(client, app, code, p.verifier).json()
    _, claims = verify(client, tokens["id_token"])
    assert claims["act_as"] == {
        "name": "福州示例科技有限公司",
        "credit_code": "91350100MA2XXXXX1X",
        "role": "agent",
        "scope": "all",
        "ends_at": claims["act_as"]["ends_at"],
    }
    userinfo = Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()
    assert userinfo["act_as"]["credit_code"] == "91350100MA2XXXXX1X"
    # remembered: next time no page, same company
    code = code_from(client.get(authorize_url(app, p, "openid company")))
    _, claims = verify(client, exchange(client, app, code, p.verifier).json()["id_token"])
    assert claims["act_as"]["name"] == "福州示例科技有限公司"


def test_cannot_choose_a_company_without_mandate(client: Client) -> None:
    app = make_client()
    user = make_person()
    stranger = make_person("zhao", "赵六", "110105194912310061")
    company = _company_with_agent(stranger)
    login(client, user)
    p = pkce()
    page = client.get(authorize_url(app, p, "openid company"))
    response = client.post(
        authorize_url(app, p, "openid company"), consent_form(page, allow=True, act_as=company.pk)
    )
    assert response.status_code == 200  # the page again, with the error at the field
    assert not Consent.objects.exists()


def test_client_min_acr_enforced(client: Client) -> None:
    app = make_client(min_acr=AssuranceLevel.TWO_FACTOR, skip_authorization=True)
    login(client, make_person(), acr=AssuranceLevel.VERIFIED)
    response = client.get(authorize_url(app, pkce()))
    # sent to the second factor (step-up) and back, never a code
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "code=" not in response["Location"]
        assert "/auth/mfa" in response["Location"]


def test_acr_values_below_session_pass_and_above_step_up(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person(), acr=AssuranceLevel.VERIFIED)
    code_from(client.get(authorize_url(app, pkce(), acr_values="urn:yiwang:acr:2")))
    response = client.get(authorize_url(app, pkce(), acr_values="urn:yiwang:acr:3"))
    assert "code=" not in response.get("Location", "")


def test_unverified_account_cannot_reach_client_needing_verified(client: Client) -> None:
    app = make_client(min_acr=AssuranceLevel.VERIFIED, skip_authorization=True)
    login(client, make_person(level=AssuranceLevel.REGISTERED), acr=AssuranceLevel.REGISTERED)
    response = client.get(authorize_url(app, pkce()))
    assert "code=" not in response.get("Location", "")


def test_code_from_an_ended_session_yields_no_token(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    from yiwang.identity.sessions import end_session

    app = make_client(skip_authorization=True)
    account_session = login(client, make_person())
    p = pkce()
    code = code_from(client.get(authorize_url(app, p)))
    with django_capture_on_commit_callbacks(execute=True):
        end_session(account_session, reason="logout")
    assert exchange(client, app, code, p.verifier).status_code == 400


def test_max_age_sends_back_to_login(client: Client, settings) -> None:
    import time

    settings.LOGIN_URL = "/auth/login/"
    app = make_client(skip_authorization=True)
    login(client, make_person())
    session = client.session
    session["yiwang_auth_time"] = int(time.time()) - 3600
    session.save()
    response = client.get(authorize_url(app, pkce(), max_age="60"))
    assert response["Location"].startswith("/auth/login/")
    code_from(client.get(authorize_url(app, pkce(), max_age="7200")))


def test_redirect_uri_must_be_registered(client: Client) -> None:
    app = make_client(skip_authorization=True)
    login(client, make_person())
    url = authorize_url(app, pkce()).replace("rp.test", "evil.test")
    response = client.get(url)
    assert response.status_code == 400
    assert REDIRECT not in response.get("Location", "")


def test_root_discovery_redirects_to_the_issuer_document(rf) -> None:
    from yiwang.identity.oidc.views import root_discovery

    response = root_discovery(rf.get("/.well-known/openid-configuration"))
    assert response.status_code == 302
    assert response["Location"] == "/o/.well-known/openid-configuration"


def test_company_claim_lists_mandate_items_and_drops_revoked_mandates(client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import standard_item

    app = make_client()
    user = make_person()
    company = _company_with_agent(user, all_items=False)
    mandate = Mandate.objects.get(company=company)
    mandate.standard_items.add(standard_item("01020000100"))
    own = Company.objects.create(
        name="张三个体工商户", credit_code="92350100MA2YYYYY2Y", legal_representative=user.person
    )
    login(client, user)
    p = pkce()
    page = client.get(authorize_url(app, p, "openid company"))
    assert [c for c, _ in page.context["form"].fields["act_as"].choices][1:] == sorted(
        [company.pk, own.pk], key=lambda pk: Company.objects.get(pk=pk).name
    )
    code = code_from(
        client.post(
            authorize_url(app, p, "openid company"), consent_form(page, allow=True, act_as=company.pk)
        )
    )
    _, claims = verify(client, exchange(client, app, code, p.verifier).json()["id_token"])
    assert claims["act_as"]["scope"] == ["01020000100"] and claims["act_as"]["role"] == "agent"
    # The mandate is revoked: the remembered company no longer counts, the person is asked again.
    Mandate.objects.filter(pk=mandate.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))
    page = client.get(authorize_url(app, pkce(), "openid company"))
    assert page.status_code == 200
    assert company.pk not in [c for c, _ in page.context["form"].fields["act_as"].choices]


def test_prompt_login_and_prompt_none(client: Client, settings) -> None:
    settings.LOGIN_URL = "/auth/login/"
    app = make_client(skip_authorization=True)
    anonymous = client.get(authorize_url(app, pkce(), prompt="none"))
    assert query_of(anonymous["Location"])["error"] == "login_required"
    login(client, make_person())
    response = client.get(authorize_url(app, pkce(), prompt="login"))
    assert response["Location"].startswith("/auth/login/?next=/o/authorize/")
    assert "prompt" not in response["Location"]
    code_from(client.get(authorize_url(app, pkce(), prompt="none")))
