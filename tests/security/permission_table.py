"""Who may do what: the permission table of every page and API endpoint of yiwang.

This module is data. ``test_permission_matrix.py`` plays every row against the real views for
every actor and record (tests/security/permission_world.py builds them), and fails when a URL
exists that no row names, or a row names a URL that no longer exists. ``docs/permissions.md`` is
rendered from it (``python -m tests.security.permission_doc``; a test checks it is current).

A row: the URL pattern as Django's resolver spells it, the method the matrix uses, what the page
does, the records it is tried on, who may (actor → records), and how everyone else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- outcomes -------------------------------------------------------------------------------------
OK = "ok"  # GET: 200. POST: done (2xx/3xx other than the login page) or a form error (400)
LOGIN = "login"  # 302 to the login page with ?next= (not logged in / not a back-office account)
FORBIDDEN = "403"  # the page exists but the account's kind may not use it at all
NOT_FOUND = "404"  # the record is not one the actor may see: answered as if it did not exist
NO_EFFECT = "no-effect"  # answered like a missing record (back to the list), the record unchanged
UNAUTHORIZED = "401"  # API: no or no valid bearer token (WWW-Authenticate: Bearer)
REDIRECT = "302"  # sent on elsewhere (not to the login page)

OUTCOME_TEXT = {
    OK: "allowed",
    LOGIN: "redirect to login",
    FORBIDDEN: "403",
    NOT_FOUND: "404",
    NO_EFFECT: "no effect (same answer as for a missing record)",
    UNAUTHORIZED: "401",
    REDIRECT: "redirect (302)",
    "400": "400 (request refused: no client credentials / parameters)",
}

# --- actors ---------------------------------------------------------------------------------------
ACTORS: dict[str, str] = {
    "anonymous": "not logged in",
    "applicant": "person (林晓峰), applies for himself and is legal representative of company A",
    "agent": "person (陈雅婷) with an all-items mandate from company A",
    "agent_no_mandate": "person (吴建国) whose mandate from company A covers another item only "
    "(and who holds an all-items mandate from company B)",
    "other_person": "person (黄志明), legal representative of company B, applicant of other cases",
    "registered_only": "account with no person record (not real-name registered)",
    "clerk": "counter clerk of 鼓楼区市场监督管理局 (the department)",
    "approver": "approver of the department",
    "head": "department head of the department",
    "other_dept_approver": "approver of another department in the same county (鼓楼区公安局)",
    "county_approver": "approver for every department of 鼓楼区 (region scope)",
    "far_clerk": "counter clerk for every department of 厦门市 (another city)",
    "supervisor": "supervisor of 福州市 (region scope)",
    "catalogue_dept": "catalogue admin of the department (back-office account)",
    "catalogue_region": "catalogue admin of 厦门市 (another region)",
    "catalogue_province": "catalogue admin of the province",
    "platform_admin": "platform (province) administrator",
    "superuser": "superuser",
}

PEOPLE = ("applicant", "agent", "agent_no_mandate", "other_person")
CITIZENS = (*PEOPLE, "registered_only")
WORKERS = ("clerk", "approver", "head", "other_dept_approver", "county_approver", "far_clerk")
CATALOGUE = ("catalogue_dept", "catalogue_region", "catalogue_province")
BACK_OFFICE = (*CATALOGUE, "platform_admin", "superuser")  # is_staff accounts
STAFF = (*WORKERS, "supervisor", *BACK_OFFICE)
LOGGED_IN = (*CITIZENS, *STAFF)
EVERYONE = ("anonymous", *LOGGED_IN)
NOT_BACK_OFFICE = tuple(a for a in EVERYONE if a not in BACK_OFFICE)

# --- records --------------------------------------------------------------------------------------
RECORDS: dict[str, str] = {
    "item": "a published item of the department",
    "unpublished_item": "an implementation of the department never published",
    "life_event": "a life-event bundle",
    "case_lin": "the applicant's own case at the department",
    "case_company": "company A's case (submitted by its legal representative) at the department",
    "case_huang": "another person's case at the department",
    "case_far": "another person's case at 厦门市's department (other city)",
    "case_lin+material_of_case_huang": "own case number with a material id of another case",
    "draft_lin": "the applicant's own unsubmitted application",
    "draft_huang": "another person's unsubmitted application",
    "draft_counter": "an application the clerk entered at the counter for another person",
    "mandate_chen": "company A's mandate to the agent",
    "mandate_wu": "company A's mandate (another item) to agent_no_mandate",
    "mandate_b": "company B's mandate to agent_no_mandate",
    "session_huang": "another person's login session",
    "consent_huang": "another person's consent to a relying party",
    "run_catalogue_dept": "a spreadsheet import run of the department's catalogue admin",
    "no_bundle": "a life-event bundle code that is not published",
    "no_certificate": "an e-certificate id (the world issues none)",
    "data_resource": "a published resource of the department in the sharing catalogue",
}
CASES = ("case_lin", "case_company", "case_huang", "case_far")
DEPT_CASES = ("case_lin", "case_company", "case_huang")
CASE_FILES = (*CASES, "case_lin+material_of_case_huang")
DRAFTS = ("draft_lin", "draft_huang", "draft_counter")
MANDATES = ("mandate_chen", "mandate_wu", "mandate_b")
ALL = "*"  # every record the row is tried on


@dataclass(frozen=True)
class Route:
    pattern: str  # as django.urls resolves it (prefix + pattern)
    method: str  # what the matrix sends: GET or POST
    what: str
    allow: dict[str, tuple[str, ...] | str]  # actor -> records it may reach (ALL: every one)
    records: tuple[str, ...] = ()
    refused: str = NOT_FOUND  # how a logged-in actor is refused by default
    refused_for: dict[str, str] = field(default_factory=dict)  # per-actor refusal, else refused
    anonymous: str = LOGIN  # how the anonymous visitor is refused (if not in allow)
    note: str = ""
    writes: bool = False  # an allowed POST changes the record (the matrix checks it did)

    def expected(self, actor: str, record: str | None) -> str:
        allowed = self.allow.get(actor)
        if allowed == ALL or (allowed is not None and (record is None or record in allowed)):
            return OK
        if actor == "anonymous":
            return self.anonymous
        return self.refused_for.get(actor, self.refused)


def _all(actors: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(actors, ALL)


def _same(actors: tuple[str, ...], records: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(actors, records)


# Who may see a case (cases.selectors.can_view_case): the applicant; the company's legal
# representative and agents whose mandate covers the item; staff with a case-handling or
# supervision role whose scope covers the case's department; platform administrators.
CASE_VIEWERS: dict[str, tuple[str, ...] | str] = {
    "applicant": ("case_lin", "case_company"),
    "agent": ("case_company",),
    "other_person": ("case_huang", "case_far"),
    **_same(("clerk", "approver", "head", "county_approver", "supervisor"), DEPT_CASES),
    "far_clerk": ("case_far",),
    "platform_admin": CASES,
    "superuser": CASES,
}
# The workbench (working roles, or a superuser) and the cases in the worker's scope.
WORKBENCH_CASES: dict[str, tuple[str, ...] | str] = {
    **_same(("clerk", "approver", "head", "county_approver"), DEPT_CASES),
    "far_clerk": ("case_far",),
    "superuser": CASES,
}
NOT_WORKERS = tuple(a for a in LOGGED_IN if a not in (*WORKERS, "superuser"))
WORKBENCH_REFUSED = dict.fromkeys(NOT_WORKERS, FORBIDDEN)

PUBLIC = "public"

ROUTES: list[Route] = [
    # --- portal: public pages
    Route("", "GET", "home page", _all(EVERYONE)),
    Route("hello/", "GET", "hello-world baseline", _all(EVERYONE)),
    Route("items/", "GET", "browse the published items", _all(EVERYONE)),
    Route(
        "items/<str:code>/",
        "GET",
        "an item's guide",
        _same(EVERYONE, ("item",)),
        records=("item", "unpublished_item"),
        anonymous=NOT_FOUND,
        note="an unpublished item has no guide, for anyone",
    ),
    Route(
        "items/<str:code>/versions/",
        "GET",
        "an item's published versions",
        _same(EVERYONE, ("item",)),
        records=("item", "unpublished_item"),
        anonymous=NOT_FOUND,
    ),
    Route("search/", "GET", "search the catalogue", _all(EVERYONE)),
    Route("life-events/<str:code>/", "GET", "a life-event bundle", _all(EVERYONE), records=("life_event",)),
    Route("preferences/region/", "POST", "choose the region shown", _all(EVERYONE)),
    Route("preferences/large-text/", "POST", "large-text switch", _all(EVERYONE)),
    Route("cases/lookup/", "GET", "public progress lookup (case number + check code)", _all(EVERYONE)),
    Route("verify/", "GET", "document verification form (notice number + check code)", _all(EVERYONE)),
    Route(
        "verify/<str:number>/",
        "GET",
        "a notice's verification page, what its QR code opens (notice number + check code)",
        _all(EVERYONE),
        records=("case_lin",),
    ),
    Route(
        "verify/certificate/<str:number>/",
        "GET",
        "an e-certificate's verification page, what its QR code opens (number + its signature)",
        {},
        refused=NOT_FOUND,
        anonymous=NOT_FOUND,
        note="played with a signature that is not the number's: 404 for everyone "
        "(tests/exchange/test_certificate_verification.py plays a real one)",
    ),
    Route("i18n/setlang/", "POST", "choose the interface language", _all(EVERYONE)),
    # --- open data: public datasets with no personal data (supervision/opendata)
    Route("opendata/", "GET", "open data: the list of datasets", _all(EVERYONE)),
    # --- the public live dashboard (supervision/dashboard.py): province-wide, no personal data
    Route(
        "dashboard/",
        "GET",
        "the public 大屏: today's figures, areas, trend, latest masked events",
        _all(EVERYONE),
    ),
    Route("dashboard/data.json", "GET", "the public 大屏's figures as JSON", _all(EVERYONE)),
    Route("dashboard/stream/", "GET", "the public 大屏's server-sent events", _all(EVERYONE)),
    Route("opendata/catalog.jsonld", "GET", "open data: the DCAT catalogue", _all(EVERYONE)),
    Route(
        "opendata/api/3/action/<str:name>", "GET", "open data: CKAN Action API (read-only)", _all(EVERYONE)
    ),
    Route(
        "opendata/api/action/<str:name>", "GET", "open data: CKAN Action API, ckanapi's path", _all(EVERYONE)
    ),
    Route("opendata/<slug:name>/", "GET", "open data: a dataset's page", _all(EVERYONE)),
    Route("opendata/<slug:name>.jsonld", "GET", "open data: a dataset's DCAT metadata", _all(EVERYONE)),
    Route("opendata/<slug:name>.<slug:extension>", "GET", "open data: a dataset's download", _all(EVERYONE)),
    # --- portal: applying (the draft is the applicant's, or the clerk's who entered it)
    Route(
        "apply/<str:code>/",
        "GET",
        "start an application (who applies)",
        _same(LOGGED_IN, ("item",)),
        records=("item", "unpublished_item"),
        note="any logged-in account may start; the services check mandates and assurance",
    ),
    *(
        Route(
            f"apply/d/<id:application_id>/{step}/",
            "GET",
            f"application step: {step}",
            {
                "applicant": ("draft_lin",),
                "other_person": ("draft_huang", "draft_counter"),
                "clerk": ("draft_counter",),
            },
            records=DRAFTS,
        )
        for step in ("form", "materials", "delivery", "review")
    ),
    # --- portal: my cases
    Route("my/cases/", "GET", "my cases (own and companies')", _all(LOGGED_IN)),
    Route(
        "my/cases/<str:number>/",
        "GET",
        "a case: progress, correction",
        CASE_VIEWERS,
        records=CASES,
        note="staff in scope see the applicant's page read-only: writes are the applicant's "
        "(services.upload_material and actions.ApplicantCorrects check the applicant)",
    ),
    Route("my/cases/<str:number>/receipt/", "GET", "a case's receipt", CASE_VIEWERS, records=CASES),
    Route(
        "my/cases/<str:number>/rate/<slug:stage>/",
        "GET",
        "the rating form (好差评) of a stage of one's case",
        {"applicant": ("case_lin", "case_company"), "other_person": ("case_huang", "case_far")},
        records=CASES,
        note="the case's applicant only (supervision.ratings.is_rater; for a company case the person "
        "who acted for it); everyone else, staff too, gets a 404. A stage not reached yet shows the "
        "form's message instead of the form",
    ),
    Route(
        "my/cases/<str:number>/rerate/<id:rating_id>/",
        "GET",
        "the one re-rating of a bad rating after its follow-up (the world has no rating)",
        {},
        note="the rater, once, after the rectification report (supervision.ratings.may_rerate)",
    ),
    Route(
        "rate/<str:token>/",
        "GET",
        "a rating QR code's signed link (receipt, counter screen): on to the rating form",
        {},
        refused=REDIRECT,
        note="sends every signed-in reader on to the form, which admits the applicant only",
    ),
    Route(
        "my/cases/<str:number>/materials/<id:material_id>/",
        "GET",
        "download a material of a case",
        CASE_VIEWERS,
        records=CASE_FILES,
        note="a material id of another case under one's own case number is a 404",
    ),
    Route(
        "my/cases/<str:number>/notices/<id:notice_id>/",
        "GET",
        "download a notice (PDF) of a case",
        CASE_VIEWERS,
        records=CASES,
    ),
    # --- portal: my e-certificates (我的证照) and who used or read them (用证记录). Each account sees
    # only what it holds: its person's certificates and those of companies it may act for
    # (exchange.selectors; the per-certificate 404s are tests/exchange/test_access_log.py's, the
    # world here issues no certificate).
    Route("my/certificates/", "GET", "my e-certificates (own and companies')", _all(LOGGED_IN)),
    Route(
        "my/certificates/log/",
        "GET",
        "uses and reads of my e-certificates (用证记录)",
        _all(LOGGED_IN),
        note="?certificate=<id> of a certificate the account does not hold (as the person, the "
        "company's legal representative or an agent whose mandate covers its item) is a 404, for "
        "the issuing department's staff too",
    ),
    Route(
        "my/certificates/<id:certificate_id>/file/",
        "GET",
        "the PDF of one of my e-certificates",
        {},
        records=("no_certificate",),
        refused=NOT_FOUND,
        note="only its holder gets the file; another person, an account without a person record and "
        "staff get a 404 (tests/exchange/test_certificate_files.py, with a certificate issued)",
    ),
    # --- portal: life-event bundles (一件事). The world has no bundle yet: these rows check that
    # ordinary records are refused; bundle drafts and cases follow the same draft_for and
    # can_view_case rules (tests/bundles, tests/portal/test_bundle_pages.py).
    Route("bundles/", "GET", "the published bundles of the chosen region", _all(EVERYONE)),
    Route(
        "bundles/<slug:code>/",
        "GET",
        "a bundle's guide",
        {},
        records=("no_bundle",),
        refused=NOT_FOUND,
        anonymous=NOT_FOUND,
    ),
    Route(
        "bundles/<slug:code>/start/",
        "GET",
        "a bundle's questions, then the combined application (POST: login)",
        {},
        records=("no_bundle",),
        refused=NOT_FOUND,
        anonymous=NOT_FOUND,
    ),
    *(
        Route(
            f"bundles/d/<id:application_id>/{step}/",
            "GET",
            f"bundle application step: {step}",
            {},
            records=DRAFTS,
            note="a single item's draft is not a bundle draft: 404 even for its owner",
        )
        for step in ("form", "materials", "delivery", "review")
    ),
    Route(
        "my/cases/<str:number>/branches/<id:branch_case_id>/notices/<id:notice_id>/",
        "GET",
        "a department's decision in my bundle case (once the results are delivered)",
        {},
        records=CASES,
        note="a single item's case has no branches: 404 for everyone",
    ),
    # --- workbench
    Route("workbench/", "GET", "inbox", _all((*WORKERS, "superuser")), refused_for=WORKBENCH_REFUSED),
    Route(
        "workbench/cases/<id:case_id>/",
        "GET",
        "case page for staff",
        WORKBENCH_CASES,
        records=CASES,
        refused_for=WORKBENCH_REFUSED,
        note="platform administrators and supervisors hold no working role: no workbench",
    ),
    Route(
        "workbench/warnings/",
        "GET",
        "yellow and red cases in the reader's scope (supervision)",
        _all(("head", "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/warnings/notices/read/",
        "POST",
        "mark my warning notices read",
        _all((*WORKERS, "superuser")),
        refused_for=WORKBENCH_REFUSED,
    ),
    Route(
        "workbench/figures/",
        "GET",
        "figures (效能) in the reader's scope, and their xlsx export (supervision)",
        _all(("head", "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/dashboard/",
        "GET",
        "the supervisor's live dashboard over the reader's scope (supervision)",
        _all(("head", "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/dashboard/data.json",
        "GET",
        "the supervisor's dashboard figures as JSON",
        _all(("head", "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/dashboard/stream/",
        "GET",
        "the supervisor's dashboard server-sent events",
        _all(("head", "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
        anonymous=UNAUTHORIZED,
    ),
    Route(
        "workbench/orders/",
        "GET",
        "supervisory orders (督办): the list, and (POST) the issue form",
        _all((*WORKERS, "supervisor", "superuser")),
        refused=FORBIDDEN,
        note="issuing is checked by supervision.orders.issue (a supervisor whose scope covers "
        "the department); the same roles reach the POST, others get the form's error",
    ),
    Route(
        "workbench/orders/<id:order_id>/reply/",
        "POST",
        "reply to a supervisory order (an order of the supervisor on the department)",
        _all(("clerk", "approver", "head")),
        refused=FORBIDDEN,
        note="staff of the department addressed only (supervision.orders.may_reply)",
    ),
    Route(
        "workbench/orders/<id:order_id>/close/",
        "POST",
        "close a supervisory order (the supervisor's own order on the department)",
        _all(("supervisor", "superuser")),
        refused=FORBIDDEN,
        note="the issuer only (and a superuser)",
    ),
    # --- the sharing catalogue, requests and grants (exchange). The matrix has no data
    # administrator: every data-admin page refuses all its actors; who may ask, decide and revoke
    # is tested in tests/exchange/test_grants.py (pages and services).
    Route(
        "workbench/exchange/catalogue/",
        "GET",
        "the sharing catalogue (政务信息资源目录): browse and search",
        _all(STAFF),
        refused=FORBIDDEN,
        note="any staff role (or a superuser)",
    ),
    Route(
        "workbench/exchange/catalogue/<id:resource_id>/",
        "GET",
        "a catalogue resource with its fields and their sensitivity",
        _same(STAFF, ("data_resource",)),
        records=("data_resource",),
        refused=FORBIDDEN,
    ),
    *(
        Route(
            pattern,
            method,
            what,
            {},
            records=("data_resource",) if "catalogue" in pattern else (),
            refused=FORBIDDEN,
            note="data administrators only (exchange.catalogue_selectors.is_data_admin); the "
            "services check the department again (exchange.grants)",
        )
        for pattern, method, what in (
            (
                "workbench/exchange/catalogue/<id:resource_id>/request/",
                "GET",
                "request a resource for my department",
            ),
            ("workbench/exchange/requests/", "GET", "我的共享申请: my departments' requests"),
            ("workbench/exchange/approvals/", "GET", "待审批: requests to my departments, grants given"),
            ("workbench/exchange/requests/<id:request_id>/", "GET", "one sharing request"),
            ("workbench/exchange/requests/<id:request_id>/approve/", "POST", "approve a request"),
            ("workbench/exchange/requests/<id:request_id>/refuse/", "POST", "refuse a request"),
            ("workbench/exchange/grants/<id:grant_id>/revoke/", "POST", "revoke a grant"),
            ("workbench/exchange/clients/", "GET", "部门系统接入: my departments' exchange API clients"),
            (
                "workbench/exchange/clients/<id:client_id>/revoke/",
                "POST",
                "revoke a department system (exchange.clients checks the department again)",
            ),
        )
    ),
    Route(
        "workbench/ratings/",
        "GET",
        "ratings (好差评): the follow-ups and latest ratings of the reader's case scope",
        _all((*WORKERS, "supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/ratings/follow-ups/<id:follow_up_id>/",
        "GET",
        "a bad rating's follow-up (整改): call and report forms (the world has no follow-up)",
        {},
        refused=FORBIDDEN,
        refused_for=dict.fromkeys((*WORKERS, "supervisor", "platform_admin", "superuser"), NOT_FOUND),
        note="a follow-up outside the reader's case scope is a 404; recording the call or the report "
        "is checked by supervision.ratings.may_follow_up (staff of the department)",
    ),
    Route(
        "workbench/ratings/ranking/",
        "GET",
        "departments and regions ranked by bad-rating rate (the supervisor's scope)",
        _all(("supervisor", "platform_admin", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/ratings/counter/",
        "GET",
        "the counter screen: the rating QR code of the case the clerk just handled",
        _all(("clerk", "far_clerk", "superuser")),
        refused=FORBIDDEN,
    ),
    Route(
        "workbench/exchange/registries/",
        "GET",
        "base registries (基础库): each registry's owner department, record count and last update",
        _all(STAFF),
        refused=FORBIDDEN,
        note="any staff role: counts and owners only, no record",
    ),
    Route(
        "workbench/exchange/registries/<slug:code>/import/",
        "GET",
        "a base registry's xlsx update (and, POST, the upload)",
        {},
        refused=FORBIDDEN,
        note="data administrators (数据管理员) of the registry's owner department only "
        "(exchange.registries.may_write, checked again by upsert); the world has none "
        "(tests/exchange/test_registry_import.py plays one)",
    ),
    Route(
        "workbench/exchange/registries/<slug:code>/template/",
        "GET",
        "a base registry's xlsx template",
        {},
        refused=FORBIDDEN,
        note="the owner department's data administrators, as the update",
    ),
    Route(
        "workbench/exchange/figures/",
        "GET",
        "交换统计: exchange figures per day, registry and department",
        _all(("supervisor", "superuser")),
        refused=FORBIDDEN,
        note="supervisors and data administrators (and a superuser)",
    ),
    Route(
        "workbench/cases/<id:case_id>/act/<str:name>/",
        "POST",
        "a staff action on a case (the matrix posts an empty transfer)",
        WORKBENCH_CASES,
        records=CASES,
        refused_for=WORKBENCH_REFUSED,
        note="reaching the action is not doing it: each action class checks the open task's "
        "role, department and region again (test_service_checks)",
    ),
    Route(
        "workbench/cases/<id:case_id>/materials/<id:material_id>/",
        "GET",
        "a material, for staff",
        WORKBENCH_CASES,
        records=CASES,
        refused_for=WORKBENCH_REFUSED,
    ),
    Route(
        "workbench/cases/<id:case_id>/notices/<id:notice_id>/",
        "GET",
        "a notice, for staff",
        WORKBENCH_CASES,
        records=CASES,
        refused_for=WORKBENCH_REFUSED,
    ),
    Route(
        "workbench/counter/",
        "GET",
        "counter entry: find the person and the item",
        _all((*WORKERS, "superuser")),
        refused_for=WORKBENCH_REFUSED,
        note="starting the draft is checked by services.start_application (counter clerk of the "
        "item's department)",
    ),
    *(
        Route(
            f"workbench/counter/d/<id:application_id>/{step}/",
            "GET",
            f"counter entry step: {step}",
            {"clerk": ("draft_counter",)},
            records=DRAFTS,
            refused_for=WORKBENCH_REFUSED,
        )
        for step in ("form", "materials", "delivery", "review")
    ),
    Route(
        "workbench/bundles/counter/<slug:code>/",
        "GET",
        "counter entry of a bundle: the person's ID number and the questionnaire's answers",
        {},
        records=("no_bundle",),
        refused_for=WORKBENCH_REFUSED,
        note="starting the draft is checked by bundles.services.start_bundle_application",
    ),
    *(
        Route(
            f"workbench/bundles/counter/d/<id:application_id>/{step}/",
            "GET",
            f"counter entry of a bundle, step: {step}",
            {},
            records=DRAFTS,
            refused_for=WORKBENCH_REFUSED,
            note="a single item's draft is not a bundle draft: 404 even for the clerk who entered it",
        )
        for step in ("form", "materials", "delivery", "review")
    ),
    Route(
        "workbench/bundles/",
        "GET",
        "bundle cases of the inbox; supervisors: also those held up longest",
        _all((*WORKERS, "supervisor", "superuser")),
        refused_for=dict.fromkeys((*CITIZENS, *CATALOGUE, "platform_admin"), FORBIDDEN),
    ),
    *(
        Route(
            f"workbench/bundles/cases/<id:case_id>/{what}/",
            "POST",
            f"bundle {label} (the lead department, on an umbrella case)",
            {},
            records=CASES,
            refused_for=WORKBENCH_REFUSED,
            note="a single item's case is no umbrella: 404 also in scope; the decision is checked "
            "by bundles.services.decide_bundle",
        )
        for what, label in (("decide", "unified decision"), ("correction", "one-time correction"))
    ),
    Route(
        "workbench/bundles/cases/<id:case_id>/branches/<id:branch_case_id>/notices/<id:notice_id>/",
        "GET",
        "a branch's decision document, from the umbrella",
        {},
        records=CASES,
        refused_for=WORKBENCH_REFUSED,
    ),
    # --- accounts
    Route(
        "account/",
        "GET",
        "own account, companies, mandates",
        _all(PEOPLE),
        refused=FORBIDDEN,
        note="accounts with no person record are told to register as a person",
    ),
    Route(
        "account/acting-as/",
        "POST",
        "切换身份: act as oneself, or for a company the person may act for now",
        _all(PEOPLE),
        refused=FORBIDDEN,
        note="a company the person may not act for is refused with 403 and nothing changes",
    ),
    Route(
        "account/register/person/",
        "GET",
        "register as a person",
        _all(("anonymous", "registered_only", *STAFF)),
        refused=REDIRECT,
        note="a person already registered is sent to the account page",
    ),
    Route(
        "account/register/person/code/",
        "GET",
        "the one-time code of a registration started in this session",
        {},
        refused=REDIRECT,
        anonymous=REDIRECT,
        note="with no registration started in the session, everyone is sent back to the form "
        "(a person: to the account page)",
    ),
    Route(
        "account/phone/verify/",
        "POST",
        "send a code to the account's own phone (an account whose phone is not proven yet)",
        _all(PEOPLE),
        refused=FORBIDDEN,
        note="an account whose phone is proven already is sent back to the account page",
    ),
    Route(
        "account/phone/code/",
        "GET",
        "the code sent to the account's own phone",
        {},
        refused=FORBIDDEN,
        refused_for={p: REDIRECT for p in PEOPLE},
        note="a person with no code pending is sent back to the account page",
    ),
    Route(
        "account/demo-sms/",
        "GET",
        "演示短信（假网关）: codes the FAKE SMS gateway kept for the demo's own phones",
        {},
        anonymous=NOT_FOUND,
        note="exists only when YIWANG_FAKE_SMS is on (the demo), never with a real gateway",
    ),
    Route(
        "account/register/company/",
        "GET",
        "register a company (legal representative)",
        _all(PEOPLE),
        refused=FORBIDDEN,
    ),
    Route(
        "account/mandates/grant/",
        "POST",
        "grant a mandate (legal representative; checked by identity.services.grant_mandate)",
        _all(PEOPLE),
        refused=FORBIDDEN,
    ),
    Route(
        "account/mandates/<id:mandate_id>/",
        "GET",
        "a mandate (its company's legal representative and its agent)",
        {
            "applicant": ("mandate_chen", "mandate_wu"),
            "agent": ("mandate_chen",),
            "agent_no_mandate": ("mandate_wu", "mandate_b"),
            "other_person": ("mandate_b",),
        },
        records=MANDATES,
    ),
    Route(
        "account/mandates/<id:mandate_id>/revoke/",
        "POST",
        "revoke a mandate (the company's legal representative only)",
        {"applicant": ("mandate_chen", "mandate_wu"), "other_person": ("mandate_b",)},
        records=MANDATES,
        writes=True,
    ),
    # --- login and sessions
    Route("auth/login/", "GET", "login page", _all(EVERYONE)),
    Route("auth/logout/", "GET", "logout confirmation (POST logs out)", _all(EVERYONE)),
    Route("auth/mfa/", "GET", "set up the second factor", _all(LOGGED_IN)),
    Route(
        "auth/mfa/verify/",
        "GET",
        "enter the second-factor code (after the password, or to step up)",
        {},
        refused=REDIRECT,
        note="without a pending login or a confirmed device there is no code to enter: sent on "
        "(tests/identity/auth cover the code itself)",
    ),
    Route("auth/sessions/", "GET", "own login sessions", _all(LOGGED_IN)),
    Route(
        "auth/sessions/<id:session_id>/end/",
        "POST",
        "end one of one's own sessions",
        {"other_person": ("session_huang",)},
        records=("session_huang",),
        refused=NO_EFFECT,
        writes=True,
    ),
    Route("auth/sessions/end-all/", "POST", "log out everywhere", _all(LOGGED_IN)),
    # --- OpenID Connect provider
    Route(
        "o/authorize/",
        "GET",
        "authorization endpoint (the matrix sends no parameters)",
        {},
        refused="400",
        note="logged in: an OAuth error page for the missing parameters; the client, redirect URI, "
        "PKCE, scopes and acr are checked by the provider (tests/identity/oidc)",
    ),
    Route(
        "o/token/",
        "POST",
        "token endpoint (client authentication, not a session)",
        {},
        refused="400",
        anonymous="400",
        note="no client credentials: 400/401 for everyone, a session cookie gives nothing",
    ),
    Route(
        "o/revoke_token/",
        "POST",
        "token revocation (client authentication)",
        {},
        refused="400",
        anonymous="400",
    ),
    Route(
        "o/introspect/",
        "POST",
        "token introspection (client credentials of a registered resource server)",
        {},
        refused=UNAUTHORIZED,
        anonymous=UNAUTHORIZED,
        note="no client credentials: 401 (WWW-Authenticate: Basic) for everyone, a session cookie "
        "gives nothing; which clients' tokens a resource server may see: tests/identity/oidc",
    ),
    Route(
        "o/.well-known/oauth-authorization-server",
        "GET",
        "RFC 8414 authorization server metadata",
        _all(EVERYONE),
    ),
    Route(
        ".well-known/oauth-authorization-server/o",
        "GET",
        "RFC 8414 metadata at the site root (the issuer's path /o after it)",
        _all(EVERYONE),
    ),
    Route(
        "o/^\\.well-known/openid-configuration/?$",
        "GET",
        "OpenID discovery",
        _all(EVERYONE),
    ),
    Route(
        ".well-known/openid-configuration",
        "GET",
        "OpenID discovery at the site root (sent on to /o/.well-known/…)",
        {},
        refused=REDIRECT,
        anonymous=REDIRECT,
    ),
    Route("o/.well-known/jwks.json", "GET", "signing keys", _all(EVERYONE)),
    Route(
        "o/userinfo/",
        "GET",
        "userinfo (bearer token only)",
        {},
        refused=UNAUTHORIZED,
        anonymous=UNAUTHORIZED,
        note="a session cookie is not a token",
    ),
    Route(
        "o/logout/",
        "GET",
        "RP-initiated logout",
        _all(LOGGED_IN),
        anonymous=REDIRECT,
        note="nobody logged in: nothing to confirm, sent on",
    ),
    Route("o/consents/", "GET", "own consents to relying parties", _all(LOGGED_IN)),
    Route(
        "o/consents/<id:pk>/revoke/",
        "POST",
        "revoke one of one's own consents",
        {"other_person": ("consent_huang",)},
        records=("consent_huang",),
        refused=NO_EFFECT,
        writes=True,
    ),
    # --- REST API (public catalogue; the account endpoints take a bearer token only)
    *(
        Route(f"api/{p}", "GET", what, _all(EVERYONE))
        for p, what in (
            ("openapi.json", "OpenAPI document"),
            ("docs", "API docs (Swagger UI)"),
            ("health", "liveness"),
            ("regions/", "regions"),
            ("regions/<code>", "a region"),
            ("departments/", "departments"),
            ("departments/<department_id>", "a department"),
            ("items/", "published items"),
            ("items/<code>", "a published item"),
            ("items/<code>/versions", "an item's versions"),
            ("standard-items/", "the standard catalogue"),
            ("standard-items/<basic_code>", "a standard item"),
            ("themes/", "themes"),
            ("life-events/", "life events"),
            ("search", "search"),
            ("exchange/catalogue/", "the sharing catalogue (metadata)"),
            ("exchange/catalogue/<code>", "a catalogue resource and its fields"),
            ("exchange/figures", "exchange figures (aggregate counts, no personal data)"),
        )
    ),
    *(
        Route(
            f"api/exchange/{p}",
            method,
            what,
            {},
            refused=UNAUTHORIZED,
            anonymous=UNAUTHORIZED,
            note="a department system's bearer token (client credentials, scope exchange); the grant "
            "matrix through the API is tests/exchange/test_exchange_api.py's",
        )
        for p, method, what in (
            ("lookup", "POST", "exchange API: single lookup"),
            ("lookup/bulk", "POST", "exchange API: bulk lookup"),
            ("changes", "GET", "exchange API: change feed"),
        )
    ),
    Route(
        "api/",
        "GET",
        "API root (no view: 404 for everyone)",
        {},
        refused=NOT_FOUND,
        anonymous=NOT_FOUND,
    ),
    Route(
        "api/account/me",
        "GET",
        "own account (bearer token with the account scope; the matrix sends the session only)",
        {},
        refused=UNAUTHORIZED,
        anonymous=UNAUTHORIZED,
        note="with a token: the token's own account only (tests/identity/oidc/test_account_api.py)",
    ),
    Route(
        "api/account/sessions",
        "GET",
        "own sessions (bearer token with the account scope)",
        {},
        refused=UNAUTHORIZED,
        anonymous=UNAUTHORIZED,
    ),
    # --- back office pages outside the admin's model pages
    Route(
        "admin/catalog/spreadsheets/",
        "GET",
        "catalogue spreadsheet import",
        _all(BACK_OFFICE),
        refused=LOGIN,
        note="rows are checked against the importer's department scope (catalog/spreadsheets)",
    ),
    Route(
        "admin/catalog/spreadsheets/export.xlsx",
        "GET",
        "catalogue export (the exporter's scope only)",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
    Route(
        "admin/catalog/spreadsheets/template.xlsx", "GET", "import template", _all(BACK_OFFICE), refused=LOGIN
    ),
    Route(
        "admin/catalog/spreadsheets/runs/<id:run_id>/",
        "GET",
        "an import run (its importer, or a superuser)",
        {"catalogue_dept": ALL, "superuser": ALL},
        records=("run_catalogue_dept",),
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/catalog/spreadsheets/runs/<id:run_id>/report.xlsx",
        "GET",
        "an import run's report",
        {"catalogue_dept": ALL, "superuser": ALL},
        records=("run_catalogue_dept",),
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/",
        "GET",
        "back-office index (each admin sees the modules below)",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
    Route("admin/login/", "GET", "handed to the unified login", {}, refused=LOGIN),
    Route("admin/logout/", "GET", "handed to the unified logout", {}, refused="302", anonymous="302"),
    Route("admin/password_change/", "GET", "password change", _all(BACK_OFFICE), refused=LOGIN),
    Route("admin/password_change/done/", "GET", "password changed", _all(BACK_OFFICE), refused=LOGIN),
    Route(
        "admin/autocomplete/",
        "GET",
        "autocomplete for admin forms (the matrix sends no parameters: 403 for everyone "
        "logged in to the back office)",
        {},
        refused=FORBIDDEN,
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route("admin/jsi18n/", "GET", "admin translations", _all(BACK_OFFICE), refused=LOGIN),
    Route(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        "GET",
        "admin 'view on site' shortcut (no model here has one: 404)",
        {},
        refused=NOT_FOUND,
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/^(?P<app_label>",  # the regex that follows names every installed app
        "GET",
        "an app's module list (the matrix opens catalog)",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
    Route(
        "admin/(?P<url>.*)$",
        "GET",
        "the admin's catch-all (unknown admin URLs)",
        {},
        refused=NOT_FOUND,
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/catalog/serviceitem/deviations/",
        "GET",
        "deviations from the standard catalogue (the admin's scope only)",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
    Route(
        "admin/worktime/calendaryear/import/",
        "GET",
        "import a year's holiday arrangement",
        _all(("platform_admin", "superuser")),
        refused=FORBIDDEN,
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/workflow/processdefinition/upload/",
        "GET",
        "upload a BPMN process",
        _all(("catalogue_province", "platform_admin", "superuser")),
        refused=FORBIDDEN,
        refused_for=dict.fromkeys(NOT_BACK_OFFICE, LOGIN),
    ),
    Route(
        "admin/workflow/processdefinition/<id:pk>/diagram/",
        "GET",
        "a process diagram",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
    Route(
        "admin/workflow/processdefinition/<id:pk>/download/",
        "GET",
        "download a process's BPMN",
        _all(BACK_OFFICE),
        refused=LOGIN,
    ),
]

# --- the admin's model pages ------------------------------------------------------------------------
# Every registered model gets changelist, add, change, history, delete and a bare "<id>/" that
# redirects to change. Per model: who may open the list (view) and the add form (add); the
# others are refused with 403, and accounts that are not back-office accounts are sent to the
# login page. "scoped" models show each catalogue admin only the records of departments in
# their scope; a record outside it redirects to the admin index.
SUPER = ("superuser",)
CATALOGUE_ALL = (*CATALOGUE, "platform_admin", "superuser")
PROVINCIAL = ("catalogue_province", "platform_admin", "superuser")


@dataclass(frozen=True)
class AdminModel:
    view: tuple[str, ...]
    add: tuple[str, ...]
    scoped: bool = False  # per-department records: own department's vs another region's
    note: str = ""
    delete: tuple[str, ...] = ()  # who may open a record's delete page


ADMIN_MODELS: dict[str, AdminModel] = {
    "auth.group": AdminModel(SUPER, SUPER, delete=SUPER),
    "auth.user": AdminModel(SUPER, SUPER, delete=SUPER),
    "identity.oauthaccesstoken": AdminModel(SUPER, (), delete=SUPER),
    "identity.oauthgrant": AdminModel(SUPER, (), delete=SUPER),
    "identity.oauthidtoken": AdminModel(SUPER, (), delete=SUPER),
    "identity.oauthrefreshtoken": AdminModel(SUPER, (), delete=SUPER),
    "identity.oauthclient": AdminModel(SUPER, SUPER, note="relying parties", delete=SUPER),
    "core.auditentry": AdminModel(SUPER, (), note="read-only, append-only"),
    "regions.region": AdminModel(SUPER, SUPER, delete=SUPER),
    "regions.department": AdminModel(SUPER, SUPER, delete=SUPER),
    "regions.servicehall": AdminModel(SUPER, SUPER, delete=SUPER),
    "catalog.standarditem": AdminModel(
        CATALOGUE_ALL, PROVINCIAL, note="edited at province level only", delete=PROVINCIAL
    ),
    "catalog.serviceitem": AdminModel(CATALOGUE_ALL, CATALOGUE_ALL, scoped=True),
    "catalog.serviceitemversion": AdminModel(CATALOGUE_ALL, (), scoped=True, note="read-only"),
    "catalog.theme": AdminModel(CATALOGUE_ALL, PROVINCIAL, delete=PROVINCIAL),
    "catalog.lifeevent": AdminModel(CATALOGUE_ALL, PROVINCIAL, delete=PROVINCIAL),
    "catalog.synonym": AdminModel(CATALOGUE_ALL, PROVINCIAL, delete=PROVINCIAL),
    "identity.person": AdminModel(SUPER, (), note="read-only, masked"),
    "identity.company": AdminModel(SUPER, (), note="read-only"),
    "identity.mandate": AdminModel(SUPER, (), note="read-only"),
    "identity.populationrecord": AdminModel(SUPER, (), note="read-only"),
    "identity.legalentityrecord": AdminModel(SUPER, (), note="read-only"),
    "identity.staffrole": AdminModel(SUPER, SUPER, note="grants audited", delete=SUPER),
    "worktime.calendarday": AdminModel(("platform_admin", "superuser"), ("platform_admin", "superuser")),
    "worktime.calendaryear": AdminModel(("platform_admin", "superuser"), ("platform_admin", "superuser")),
    "cases.itemform": AdminModel(
        CATALOGUE_ALL,
        CATALOGUE_ALL,
        scoped=True,
        note="saving goes through cases.services.save_item_form (department check, audit)",
        delete=PROVINCIAL,
    ),
    "cases.case": AdminModel(
        CATALOGUE_ALL, (), scoped=True, note="read-only (cases change through the action classes)"
    ),
    "cases.outboxmessage": AdminModel(
        CATALOGUE_ALL,
        (),
        scoped=True,
        note="by the case's department; read-only but for superusers",
        delete=SUPER,
    ),
    "workflow.processdefinition": AdminModel(CATALOGUE_ALL, (), note="added through the upload page"),
    "workflow.processbinding": AdminModel(CATALOGUE_ALL, CATALOGUE_ALL, scoped=True, delete=PROVINCIAL),
    "bundles.bundle": AdminModel(CATALOGUE_ALL, CATALOGUE_ALL, note="scoped to the lead department"),
    "bundles.bundlefield": AdminModel(CATALOGUE_ALL, (), note="scoped to the lead department"),
    "exchange.ecertificate": AdminModel(SUPER, (), note="read-only"),
    "exchange.exchangelogentry": AdminModel(SUPER, (), note="read-only (written by exchange.log)"),
    "exchange.exchangelogseal": AdminModel(SUPER, (), note="read-only (written by the sealer)"),
    "supervision.casewarning": AdminModel(SUPER, (), note="read-only (written by the sweep)"),
    "supervision.flag": AdminModel(SUPER, (), note="read-only"),
    "supervision.rating": AdminModel(SUPER, (), note="read-only (written by the applicant's rating)"),
    "supervision.ratingfollowup": AdminModel(SUPER, (), note="read-only (written by the department's pages)"),
    "supervision.staffnotice": AdminModel(SUPER, (), note="read-only"),
}
ADMIN_MODEL_URLS = ("changelist", "add", "history", "delete", "change", "")
