"""Applicant pages for applications and cases (included in the portal namespace)."""

from django.urls import path

from . import views_cases as v
from . import views_ratings as vr

urlpatterns = [
    path("apply/<str:code>/", v.apply_start, name="apply"),
    path("apply/d/<id:application_id>/form/", v.apply_form, name="apply_form"),
    path("apply/d/<id:application_id>/materials/", v.apply_materials, name="apply_materials"),
    path("apply/d/<id:application_id>/delivery/", v.apply_delivery, name="apply_delivery"),
    path("apply/d/<id:application_id>/review/", v.apply_review, name="apply_review"),
    path("my/cases/", v.my_cases, name="my_cases"),
    path("my/cases/<str:number>/", v.my_case, name="my_case"),
    path("my/cases/<str:number>/receipt/", v.case_receipt, name="case_receipt"),
    path("my/cases/<str:number>/materials/<id:material_id>/", v.my_case_material, name="my_case_material"),
    path("my/cases/<str:number>/notices/<id:notice_id>/", v.my_case_notice, name="my_case_notice"),
    path("my/cases/<str:number>/rate/<slug:stage>/", vr.rate_case, name="rate_case"),
    path("my/cases/<str:number>/rerate/<id:rating_id>/", vr.rerate_case, name="rerate_case"),
    path("rate/<str:token>/", vr.rate_link, name="rate_link"),
    path("cases/lookup/", v.lookup, name="case_lookup"),
    path("verify/", v.verify_notice, name="verify_notice_form"),
    path("verify/<str:number>/", v.verify_notice, name="verify_notice"),
]
