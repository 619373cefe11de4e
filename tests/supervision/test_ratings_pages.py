"""The rating pages: the form for the applicant only, errors next to the question, the QR link,
the receipt's QR code, the guide's score from the rollup, and the workbench's follow-up forms,
ranking and counter screen."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import staff, submitted_case
from tests.supervision.test_ratings import ONLINE, finished
from tests.workbench.helpers import client_for
from yiwang.cases.models import Case, CaseChannel
from yiwang.identity.models import Role
from yiwang.supervision import rating_selectors, ratings
from yiwang.supervision.models import FollowUpStatus, Rating


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def test_form_for_the_applicant_only_with_errors_next_to_the_question(world):
    case = finished(submitted_case(world))
    url = reverse("portal:rate_case", args=[case.number, "finished"])
    assert client_for(world.head).get(url).status_code == 404  # staff who may see the case
    page = client_for(world.applicant).get(reverse("portal:my_case", args=[case.number]))
    assert url in page.content.decode()
    c = client_for(world.applicant)
    r = c.post(url, {"score": "5", "efficiency": "5", "guide_accuracy": "4", "convenience": "4"})
    assert r.status_code == 400
    html = r.content.decode()
    assert 'id="e-usability"' in html and "请选择一项。" in html
    assert not Rating.objects.exists()
    r = c.post(url, {"score": "5", **{k: "4" for k in ONLINE}, "comment": "好", "publish_comment": "1"})
    assert r.status_code == 302
    assert Rating.objects.get().publish_comment
    assert c.post(url, {"score": "5", **{k: "4" for k in ONLINE}}).status_code == 400  # once


def test_qr_link_and_receipt(world):
    case = submitted_case(world)
    c = client_for(world.applicant)
    receipt = c.get(reverse("portal:case_receipt", args=[case.number])).content.decode()
    assert 'id="rating-qr"' in receipt and "data:image/png;base64," in receipt
    link = rating_selectors.rating_url(case, "finished")
    r = c.get(link)
    assert r.status_code == 302 and r["Location"] == reverse(
        "portal:rate_case", args=[case.number, "finished"]
    )
    assert c.get(link[:-3] + "xx/").status_code == 404
    assert c.get(r["Location"]).status_code == 200  # not finished: the message, not a 500


def test_guide_shows_the_score_from_the_rollup(world, django_capture_on_commit_callbacks):
    a = finished(submitted_case(world))
    b = finished(submitted_case(world))
    guide = reverse("portal:guide", args=[world.item.code])
    assert "暂无评价" in client_for(world.outsider).get(guide).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the guide's panel is dropped on commit
        ratings.rate(
            world.applicant,
            a,
            stage="finished",
            score=5,
            indicators=ONLINE,
            comment="很快，电话 13812345678",
            publish_comment=True,
        )
        ratings.rate(world.applicant, b, stage="finished", score=2, indicators=ONLINE)
    html = client_for(world.outsider).get(guide).content.decode()
    assert "50.0%" in html and "13812345678" not in html
    name = Rating.objects.first().rater_masked
    assert name in html and "*" in name


def test_follow_up_page_call_and_report(world):
    case = finished(submitted_case(world))
    r = ratings.rate(world.applicant, case, stage="finished", score=1, indicators=ONLINE)
    url = reverse("workbench:rating_follow_up", args=[r.follow_up.pk])
    far = client_for(world.far_clerk)
    assert far.get(url).status_code == 404  # outside the scope
    head = client_for(world.head)
    listing = head.get(reverse("workbench:ratings")).content.decode()
    assert url in listing
    bad = head.post(url, {"what": "call", "called_at": "yesterday", "call_note": "x"})
    assert bad.status_code == 400 and 'id="e-called_at"' in bad.content.decode()
    assert head.post(url, {"what": "call", "call_note": " "}).status_code == 400
    assert head.post(url, {"what": "call", "call_note": "已回访"}).status_code == 302
    assert head.post(url, {"what": "report", "report": "已整改"}).status_code == 302
    r.follow_up.refresh_from_db()
    assert r.follow_up.status == FollowUpStatus.RECTIFIED
    # the applicant re-rates from the case page
    c = client_for(world.applicant)
    page = c.get(reverse("portal:my_case", args=[case.number])).content.decode()
    rerate = reverse("portal:rerate_case", args=[case.number, r.pk])
    assert rerate in page
    assert c.post(rerate, {"score": "4", **{k: "4" for k in ONLINE}}).status_code == 302
    assert c.get(rerate).status_code == 404  # once


def test_ranking_and_counter_screen(world):
    sup = staff("sup_city", Role.SUPERVISOR, region=world.regions["city"])
    case = finished(submitted_case(world))
    ratings.rate(world.applicant, case, stage="finished", score=1, indicators=ONLINE)
    html = client_for(sup).get(reverse("workbench:rating_ranking")).content.decode()
    assert world.dept.name in html and "100.0%" in html
    assert client_for(world.clerk).get(reverse("workbench:rating_ranking")).status_code == 403
    counter = submitted_case(world)
    Case.objects.filter(pk=counter.pk).update(
        channel=CaseChannel.COUNTER, entered_by=world.clerk, accepted_on=timezone.localdate()
    )
    html = client_for(world.clerk).get(reverse("workbench:rating_counter")).content.decode()
    assert 'id="counter-qr"' in html and counter.number in html


def test_receipt_pdf_carries_the_rating_qr_code(world):
    import io

    from pypdf import PdfReader

    from yiwang.cases import actions, notices
    from yiwang.cases.models import NoticeKind

    case = submitted_case(world)
    receipt = notices.issue(case, NoticeKind.RECEIPT)
    receipt.file.open("rb")
    page = PdfReader(io.BytesIO(receipt.file.read())).pages[0]
    receipt.file.close()
    assert len(list(page.images)) == 2  # verification and rating
    assert "办结后扫码评价本次服务" in page.extract_text().replace("\x00", "")
    acceptance = notices.issue(actions.Accept(case, world.clerk).run(), NoticeKind.ACCEPTANCE)
    acceptance.file.open("rb")
    assert len(list(PdfReader(io.BytesIO(acceptance.file.read())).pages[0].images)) == 1
    acceptance.file.close()
