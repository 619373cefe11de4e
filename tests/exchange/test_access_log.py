"""用证记录: the holder of an e-certificate sees every use and read of it (which department or
office, masked name, which case, when, for what); nobody else does, not even the issuing
department; pages of 20; the log rows are written with their audit entries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.cases.conftest import PASSWORD, pdf_upload
from tests.exchange.test_ecertificates import apply, approved_case
from yiwang.cases import actions, services
from yiwang.core.models import AuditEntry
from yiwang.exchange import selectors as ex_selectors
from yiwang.exchange import services as ex_services
from yiwang.exchange.models import CertificateAccess, ECertificate
from yiwang.identity import services as identity
from yiwang.identity.synthetic import demo_companies, demo_people, register_through_fake_sms

LOG = reverse("portal:certificate_log")
MINE = reverse("portal:my_certificates")


def person(n: int, username: str):
    p = demo_people()[n]
    return register_through_fake_sms(
        username=username, password=PASSWORD, name=p.name, id_number=p.id_number, phone=p.phone
    )


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def cert(world, items, django_capture_on_commit_callbacks):
    issuing, _ = items
    return ECertificate.objects.get(case=approved_case(world, issuing, django_capture_on_commit_callbacks))


def test_the_holder_sees_uses_and_staff_reads(world, items, cert, client):
    _, using = items
    # A use: the applicant takes the certificate into a later application, then submits it.
    app = apply(world, using)
    services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    page = ex_selectors.access_log(world.applicant)
    (row,) = page.rows
    assert row.kind == "use" and row.case_number == "" and row.office == world.dept.name
    assert row.access.actor_masked == world.person.name[0] + "**"
    for m in services.missing_materials(app):
        services.upload_material(app, requirement=m, uploaded=pdf_upload(), user=world.applicant)
    case = services.submit(app, user=world.applicant)
    # A read by a clerk of the issuing department, for that case.
    ex_services.read_certificate(cert, user=world.clerk, purpose="受理审查", case=case)

    rows = ex_selectors.access_log(world.applicant, certificate_id=cert.pk).rows
    assert [r.kind for r in rows] == ["read", "use"]
    read, use = rows
    assert use.case_number == case.number and use.office == world.dept.name
    assert use.item_name == case.item_name and use.access.purpose == "食品小作坊登记证"
    assert read.access.by_staff and read.case_number == case.number and read.access.purpose == "受理审查"
    assert read.office == f"{world.dept.name} 窗口受理人员" and read.access.department == world.dept
    assert read.access.actor_masked == "c****"  # the clerk's account name, masked
    # Each row is the audit entry's twin (same transaction, same time, its seq).
    for r, action in ((read, "exchange.read"), (use, "exchange.use")):
        entry = AuditEntry.objects.get(seq=r.access.audit_seq)
        assert entry.action == action and entry.object_id == str(cert.pk) and entry.at == r.access.at

    # The pages: 我的证照 lists it (masked number) and links to its log.
    login(client, world.applicant)
    html = client.get(MINE).content.decode()
    assert "食品小作坊登记证" in html and cert.number_masked in html and cert.number not in html
    assert f"{LOG}?certificate={cert.pk}" in html
    response = client.get(LOG, {"certificate": cert.pk})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    for text in (
        "用证记录",
        case.number,
        f"{world.dept.name} 窗口受理人员",
        "c****",
        "工作人员",
        "受理审查",
        "作为申请材料“食品小作坊登记证”",
        world.person.name[0] + "**",
    ):
        assert text in html, text
    # The header names the holder to themself (their own account menu); the log's lines never
    # carry a full name.
    body = re.sub(r'<details class="account-menu".*?</details>', "", html, flags=re.S)
    assert world.person.name in html and world.person.name not in body
    assert cert.number not in html
    # The log of all the holder's certificates has them too.
    assert case.number in client.get(LOG).content.decode()


def test_the_holder_reading_it_is_logged_as_themself(world, cert, client):
    ex_services.read_certificate(cert, user=world.applicant)
    (row,) = ex_selectors.access_log(world.applicant).rows
    assert row.kind == "read" and not row.access.by_staff and row.office == ""
    assert "本人" in login(client, world.applicant).get(LOG).content.decode()


def test_no_one_else_sees_the_log(world, cert, client):
    ex_services.read_certificate(cert, user=world.clerk)
    other = person(2, "huang")
    url = f"{LOG}?certificate={cert.pk}"
    # Another person, an account without a person, staff of another department, and even the
    # issuing department's own staff (who may read the certificate, not its log): 404.
    for user in (other.user, world.outsider, world.other_dept_approver, world.clerk, world.head):
        response = login(client, user).get(url)
        assert response.status_code == 404, user.username
        assert ex_selectors.access_log(user, certificate_id=cert.pk) is None
        # Their own log and certificate list show nothing of it.
        assert cert.number_masked not in client.get(LOG).content.decode()
        assert cert.number_masked not in client.get(MINE).content.decode()
        assert ex_selectors.access_log(user).rows == []
    assert login(client, world.applicant).get(f"{LOG}?certificate=x").status_code == 404
    assert client.get(f"{LOG}?certificate=999999").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302 and "/login/" in client.get(url)["Location"]


def test_a_company_certificate_is_its_agents_not_another_companys(world, items, client):
    issuing, using = items
    lin, huang, wu = person(0, "lin"), person(2, "huang"), person(3, "wu")
    firm_a, firm_b = demo_companies()
    company_a = identity.register_company(person=lin, credit_code=firm_a.credit_code, name=firm_a.name)
    company_b = identity.register_company(person=huang, credit_code=firm_b.credit_code, name=firm_b.name)
    now = timezone.now()
    period = {"starts_at": now - dt.timedelta(days=1), "ends_at": now + dt.timedelta(days=30)}
    identity.grant_mandate(  # world.applicant (陈雅婷): all items of company A
        company=company_a,
        by=lin,
        agent_id_number=identity.id_number_of(world.person),
        all_items=True,
        **period,
    )
    identity.grant_mandate(  # 吴建国: company A, another item only; all items of company B
        company=company_a,
        by=lin,
        agent_id_number=identity.id_number_of(wu),
        standard_items=[world.item.standard],
        **period,
    )
    identity.grant_mandate(
        company=company_b, by=huang, agent_id_number=identity.id_number_of(wu), all_items=True, **period
    )
    app = services.start_application(lin.user, issuing, acting_for=company_a)
    for m in services.required_materials(app):
        services.upload_material(app, requirement=m["name"], uploaded=pdf_upload(), user=lin.user)
    case = actions.Accept(services.submit(app, user=lin.user), world.clerk).run()
    case = actions.Review(case, world.approver, decision="pass").run()
    case = actions.Decide(case, world.head, decision="approve").run()
    cert = ECertificate.objects.get(case=case)
    # The agent uses it for the company.
    later = services.start_application(world.applicant, using, acting_for=company_a)
    services.provide_from_source(later, requirement="食品小作坊登记证", user=world.applicant)

    url = f"{LOG}?certificate={cert.pk}"
    for user in (lin.user, world.applicant):  # the legal representative, the all-items agent
        response = login(client, user).get(url)
        assert response.status_code == 200 and company_a.name in response.content.decode()
        assert company_a.name in client.get(MINE).content.decode()
        (row,) = ex_selectors.access_log(user, certificate_id=cert.pk).rows
        assert row.kind == "use" and row.access.actor_masked == world.person.name[0] + "**"
    # The agent sees the company's record in their own full log as well.
    assert len(ex_selectors.access_log(world.applicant).rows) == 1
    # Another company's representative and agent, and an agent of company A for another item.
    for user in (huang.user, wu.user):
        assert login(client, user).get(url).status_code == 404, user.username
        assert ex_selectors.access_log(user).rows == []
        assert cert.number_masked not in client.get(MINE).content.decode()


def test_pages_of_twenty(world, cert, client):
    for n in range(25):
        ex_services.record_use(cert, user=world.applicant, purpose=f"材料{n:02d}")
    first = ex_selectors.access_log(world.applicant, page=1)
    second = ex_selectors.access_log(world.applicant, page=2)
    assert len(first.rows) == 20 and first.more and len(second.rows) == 5 and not second.more
    purposes = [r.access.purpose for r in first.rows + second.rows]
    assert purposes == [f"材料{n:02d}" for n in range(24, -1, -1)]  # newest first, no overlap
    assert ex_selectors.access_log(world.applicant, page=3).rows == []

    login(client, world.applicant)
    html = client.get(LOG).content.decode()
    assert "材料24" in html and "材料04" not in html and "page=2" in html and "下一页" in html
    html = client.get(LOG, {"certificate": cert.pk, "page": 2}).content.decode()
    assert "材料04" in html and "材料05" not in html and "上一页" in html and "下一页" not in html
    assert f"certificate={cert.pk}&amp;page=1" in html
    assert client.get(LOG, {"page": "x"}).status_code == 200

    # The page's statements do not grow with its rows (20 rows here, 1 row below).
    with CaptureQueriesContext(connection) as full:
        client.get(LOG)
    CertificateAccess.objects.exclude(pk=CertificateAccess.objects.order_by("-pk")[0].pk).delete()
    with CaptureQueriesContext(connection) as one:
        client.get(LOG)
    assert len(full) == len(one), [q["sql"] for q in full.captured_queries]


def test_staff_opening_the_material_copy_is_a_read_under_the_cases_department(world, items, cert):
    _, using = items
    app = apply(world, using)
    material = services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    for m in services.missing_materials(app):
        services.upload_material(app, requirement=m, uploaded=pdf_upload(), user=world.applicant)
    case = services.submit(app, user=world.applicant)
    material.refresh_from_db()
    access = ex_services.record_copy_read(material, user=world.approver)
    assert access.kind == "read" and access.by_staff and access.case_number == case.number
    assert (
        access.office == f"{world.dept.name} 审批人员" and access.purpose == "审查申请材料“食品小作坊登记证”"
    )
    assert AuditEntry.objects.get(seq=access.audit_seq).detail["case"] == case.number
    read, _use = ex_selectors.access_log(world.applicant, certificate_id=cert.pk).rows
    assert read.access == access
    # An uploaded file is no certificate's copy: nothing logged.
    upload = case.materials.exclude(origin="e_certificate").first()
    assert ex_services.record_copy_read(upload, user=world.approver) is None


def test_the_workbench_materials_viewer_logs_the_read(world, items, cert):
    """Staff opening the copy from the case page (workbench) is what the holder sees."""
    from tests.workbench.helpers import client_for

    _, using = items
    app = apply(world, using)
    material = services.provide_from_source(app, requirement="食品小作坊登记证", user=world.applicant)
    for m in services.missing_materials(app):
        services.upload_material(app, requirement=m, uploaded=pdf_upload(), user=world.applicant)
    case = services.submit(app, user=world.applicant)
    before = CertificateAccess.objects.filter(kind="read").count()
    url = reverse("workbench:material", args=[case.pk, material.pk])
    assert client_for(world.clerk).get(url).status_code == 200
    read = CertificateAccess.objects.filter(kind="read").order_by("-pk")
    assert read.count() == before + 1 and read[0].case_number == case.number
    # An uploaded material opens without a log row.
    upload = case.materials.exclude(origin="e_certificate").first()
    client_for(world.clerk).get(reverse("workbench:material", args=[case.pk, upload.pk]))
    assert CertificateAccess.objects.filter(kind="read").count() == before + 1
