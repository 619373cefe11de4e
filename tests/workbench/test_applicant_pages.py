"""Applicant pages: apply step by step, idempotent submit, my cases, correction, lookup."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.cases.conftest import PDF, png_bytes, submitted_case
from yiwang.cases import actions
from yiwang.cases.models import Application, Case, CaseState

from .helpers import client_for

pytestmark = pytest.mark.django_db


def _apply_until_review(w, client) -> Application:
    r = client.post(
        reverse("portal:apply", args=[w.item.code]), {"acting_for": "self", "idempotency_key": "k1"}
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    app = Application.objects.get(idempotency_key="k1")
    assert r["Location"] == reverse("portal:apply_form", args=[app.pk])
    page = client.get(r["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    # Browser-side rules from the schema: required and the phone pattern.
    assert 'pattern="1[3-9][0-9]{9}"' in html and "required" in html
    assert app.data.get("applicant_name")  # prefilled from the account
    bad = client.post(r["Location"], {**app.data, "phone": "123", "go": "next"})
    assert bad.status_code == 200 and "联系电话格式不正确" in bad.content.decode()
    r = client.post(r["Location"], {**app.data, "phone": "13800138000", "reason": "开办餐饮店", "go": "next"})
    assert r["Location"] == reverse("portal:apply_materials", args=[app.pk])
    url = r["Location"]
    too_early = client.post(url, {"go": "next"})
    assert too_early.status_code == 400 and "请提供申请材料" in too_early.content.decode()
    exe = client.post(
        url, {"requirement": "食品经营许可申请书", "file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00")}
    )
    assert exe.status_code == 400 and "可执行程序" in exe.content.decode()
    ok = client.post(
        url, {"requirement": "食品经营许可申请书", "file": SimpleUploadedFile("申请书.pdf", PDF)}
    )
    assert ok.status_code == 302
    ok = client.post(url, {"requirement": "营业执照", "file": SimpleUploadedFile("执照.png", png_bytes())})
    assert ok.status_code == 302
    r = client.post(url, {"go": "next"})
    assert r["Location"] == reverse("portal:apply_delivery", args=[app.pk])
    missing = client.post(r["Location"], {"delivery_method": "courier", "delivery_address": ""})
    assert missing.status_code == 400 and "收件地址" in missing.content.decode()
    r = client.post(
        r["Location"], {"delivery_method": "courier", "delivery_address": "福州市鼓楼区五四路 1 号"}
    )
    assert r["Location"] == reverse("portal:apply_review", args=[app.pk])
    return app


def test_guide_links_to_online_application(world):
    page = client_for(world.applicant).get(reverse("portal:guide", args=[world.item.code]))
    assert reverse("portal:apply", args=[world.item.code]) in page.content.decode()


def test_apply_requires_login_and_step_up(world):
    r = Client().get(reverse("portal:apply", args=[world.item.code]))
    assert r.status_code == 302 and "/auth/login/" in r["Location"]
    world.item.current_version.elements["min_assurance_level"] = 3
    world.item.current_version.save(update_fields=["elements"])
    r = client_for(world.applicant, acr=2).get(reverse("portal:apply", args=[world.item.code]))
    assert r.status_code == 302 and "/auth/" in r["Location"]


def test_apply_through_the_pages_and_double_submit_makes_one_case(world, django_capture_on_commit_callbacks):
    client = client_for(world.applicant)
    app = _apply_until_review(world, client)
    review = client.get(reverse("portal:apply_review", args=[app.pk]))
    assert review.status_code == 200 and app.idempotency_key in review.content.decode()
    url = reverse("portal:apply_review", args=[app.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"idempotency_key": app.idempotency_key})
        second = client.post(url, {"idempotency_key": app.idempotency_key})
    assert Case.objects.filter(application=app).count() == 1
    case = Case.objects.get(application=app)
    assert first["Location"] == second["Location"] == reverse("portal:case_receipt", args=[case.number])
    receipt = client.get(first["Location"])
    assert case.number in receipt.content.decode()
    notice = case.notices.get(kind="receipt")
    # The case page links each notice and material as reverse() would (CaseDetail.set_links).
    page = client.get(reverse("portal:my_case", args=[case.number])).content.decode()
    assert f'href="{reverse("portal:my_case_notice", args=[case.number, notice.pk])}"' in page
    for m in case.materials.filter(replaced=False).exclude(file=""):
        assert f'href="{reverse("portal:my_case_material", args=[case.number, m.pk])}"' in page
    pdf = client.get(reverse("portal:my_case_notice", args=[case.number, notice.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    assert case.delivery_method == "courier"


def test_stale_key_is_refused(world):
    client = client_for(world.applicant)
    app = _apply_until_review(world, client)
    r = client.post(reverse("portal:apply_review", args=[app.pk]), {"idempotency_key": "other"})
    assert r.status_code == 400 and "页面已过期" in r.content.decode()
    assert not Case.objects.exists()


def test_someone_elses_draft_and_case_are_404(world):
    app = _apply_until_review(world, client_for(world.applicant))
    other = client_for(world.outsider)
    assert other.get(reverse("portal:apply_form", args=[app.pk])).status_code == 404
    case = submitted_case(world)
    assert other.get(reverse("portal:my_case", args=[case.number])).status_code == 404
    m = case.materials.first()
    assert other.get(reverse("portal:my_case_material", args=[case.number, m.pk])).status_code == 404


def test_my_cases_and_correction_round_trip(world):
    case = submitted_case(world)
    actions.RequestCorrection(
        case,
        world.clerk,
        items=[
            {"material": "营业执照", "reason": "照片不清晰"},
            {"field": "reason", "reason": "请写明经营项目"},
        ],
    ).run()
    client = client_for(world.applicant)
    listing = client.get(reverse("portal:my_cases"))
    assert case.number in listing.content.decode() and "需要您补正" in listing.content.decode()
    url = reverse("portal:my_case", args=[case.number])
    assert f'href="{url}"' in listing.content.decode()
    page = client.get(url).content.decode()
    assert "照片不清晰" in page and "请写明经营项目" in page
    early = client.post(url, {"what": "correct", "field:reason": "经营热食类食品"})
    assert early.status_code == 400 and "请重新提供“营业执照”" in early.content.decode()
    wrong = client.post(
        url, {"what": "upload", "requirement": "食品经营许可申请书", "file": SimpleUploadedFile("a.pdf", PDF)}
    )
    assert wrong.status_code == 400 and "不在补正通知所列范围内" in wrong.content.decode()
    up = client.post(
        url, {"what": "upload", "requirement": "营业执照", "file": SimpleUploadedFile("新执照.pdf", PDF)}
    )
    assert up.status_code == 302
    done = client.post(url, {"what": "correct", "field:reason": "经营热食类食品"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert case.application.data["reason"] == "经营热食类食品"


def test_public_lookup_masks_and_is_rate_limited(world, client):
    cache.clear()
    case = submitted_case(world)
    url = reverse("portal:case_lookup")
    assert client.get(url).status_code == 200
    wrong = client.get(url, {"number": case.number, "code": "XXXXXX"})
    assert wrong.status_code == 404 and "不正确" in wrong.content.decode()
    ok = client.get(url, {"number": case.number, "code": case.check_code})
    html = ok.content.decode()
    assert ok.status_code == 200 and case.item_name in html
    assert world.person.name not in html and world.person.name[0] + "*" in html
    for _ in range(10):
        r = client.get(url, {"number": case.number, "code": case.check_code})
    assert r.status_code == 429
    cache.clear()


def test_apply_for_a_company_the_person_represents(world):
    from django.utils import timezone

    from yiwang.identity.models import Company

    company = Company.objects.create(
        name="福州示例餐饮有限公司",
        credit_code="91350102MA2XXXXX1A",
        legal_representative=world.person,
        verified_at=timezone.now(),
    )
    client = client_for(world.applicant)
    page = client.get(reverse("portal:apply", args=[world.item.code])).content.decode()
    assert company.name in page and company.credit_code in page
    refused = client.post(reverse("portal:apply", args=[world.item.code]), {"acting_for": "999999"})
    assert refused.status_code == 200 and "不能代表所选单位" in refused.content.decode()
    r = client.post(
        reverse("portal:apply", args=[world.item.code]),
        {"acting_for": str(company.pk), "idempotency_key": "co1"},
    )
    assert r.status_code == 302
    assert Application.objects.get(idempotency_key="co1").acting_for == company


def test_application_form_labels_in_traditional_chinese_values_as_stored(world):
    from django.conf import settings

    client = client_for(world.applicant)
    r = client.post(
        reverse("portal:apply", args=[world.item.code]), {"acting_for": "self", "idempotency_key": "h1"}
    )
    app = Application.objects.get(idempotency_key="h1")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    html = client.get(r["Location"]).content.decode()
    assert "聯繫電話" in html and "联系电话" not in html  # the item's field label
    assert "<h1>食品經營許可</h1>" in html
    saved = client.post(
        r["Location"], {**app.data, "phone": "13800138000", "reason": "开办饮食店", "go": "next"}
    )
    assert saved.status_code == 302
    app.refresh_from_db()
    assert app.data["reason"] == "开办饮食店"  # stored as typed
    assert "开办饮食店" in client.get(r["Location"]).content.decode()  # and shown as typed
