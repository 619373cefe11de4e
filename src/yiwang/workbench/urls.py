"""Staff workbench: /workbench/."""

from django.urls import path

from . import views, views_bundles

app_name = "workbench"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<int:case_id>/", views.case_page, name="case"),
    path("cases/<int:case_id>/act/<str:name>/", views.act, name="act"),
    path("cases/<int:case_id>/materials/<int:material_id>/", views.material, name="material"),
    path("cases/<int:case_id>/notices/<int:notice_id>/", views.notice, name="notice"),
    path("bundles/", views_bundles.held_up, name="bundles"),
    path("bundles/cases/<int:case_id>/decide/", views_bundles.decide, name="bundle_decide"),
    path(
        "bundles/cases/<int:case_id>/correction/",
        views_bundles.branch_correction,
        name="bundle_branch_correction",
    ),
    path(
        "bundles/cases/<int:case_id>/branches/<int:branch_case_id>/notices/<int:notice_id>/",
        views_bundles.branch_notice,
        name="bundle_branch_notice",
    ),
    path("counter/", views.counter_start, name="counter"),
    path("counter/d/<int:application_id>/form/", views.counter_form, name="counter_form"),
    path("counter/d/<int:application_id>/materials/", views.counter_materials, name="counter_materials"),
    path("counter/d/<int:application_id>/delivery/", views.counter_delivery, name="counter_delivery"),
    path("counter/d/<int:application_id>/review/", views.counter_review, name="counter_review"),
]
