"""Applicant pages for bundles (included in the portal namespace, before urls_cases: the
apply, my-cases, my-case and lookup entries here answer for bundles and hand every other case
on)."""

from django.urls import path

from . import views_bundles as v

urlpatterns = [
    path("bundles/", v.bundle_list, name="bundle_list"),
    path("bundles/<slug:code>/", v.bundle_guide, name="bundle_guide"),
    path("bundles/<slug:code>/start/", v.bundle_start, name="bundle_start"),
    path("bundles/d/<id:application_id>/form/", v.bundle_form, name="bundle_form"),
    path("bundles/d/<id:application_id>/materials/", v.bundle_materials, name="bundle_materials"),
    path("bundles/d/<id:application_id>/delivery/", v.bundle_delivery, name="bundle_delivery"),
    path("bundles/d/<id:application_id>/review/", v.bundle_review, name="bundle_review"),
    path("apply/<str:code>/", v.apply_start, name="apply"),
    path("my/cases/", v.my_cases, name="my_cases"),
    path("my/cases/<str:number>/", v.my_case, name="my_case"),
    path(
        "my/cases/<str:number>/branches/<id:branch_case_id>/notices/<id:notice_id>/",
        v.my_branch_notice,
        name="my_branch_notice",
    ),
    path("cases/lookup/", v.lookup, name="case_lookup"),
]
