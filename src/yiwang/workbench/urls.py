"""Staff workbench: /workbench/."""

from django.urls import path

from . import (
    views,
    views_bundles,
    views_dashboard,
    views_exchange,
    views_figures,
    views_orders,
    views_ratings,
    views_registries,
)

app_name = "workbench"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("cases/<id:case_id>/", views.case_page, name="case"),
    path("warnings/", views.warnings, name="warnings"),
    path("warnings/notices/read/", views.notices_read, name="notices_read"),
    path("figures/", views_figures.figures_page, name="figures"),
    path("dashboard/", views_dashboard.page, name="dashboard"),
    path("dashboard/data.json", views_dashboard.data, name="dashboard_data"),
    path("dashboard/stream/", views_dashboard.stream, name="dashboard_stream"),
    path("orders/", views_orders.orders_page, name="orders"),
    path("orders/<id:order_id>/reply/", views_orders.reply, name="order_reply"),
    path("orders/<id:order_id>/close/", views_orders.close, name="order_close"),
    path("ratings/", views_ratings.ratings_page, name="ratings"),
    path("ratings/follow-ups/<id:follow_up_id>/", views_ratings.follow_up_page, name="rating_follow_up"),
    path("ratings/ranking/", views_ratings.ranking_page, name="rating_ranking"),
    path("ratings/counter/", views_ratings.counter_screen, name="rating_counter"),
    path("cases/<id:case_id>/act/<str:name>/", views.act, name="act"),
    path("cases/<id:case_id>/materials/<id:material_id>/", views.material, name="material"),
    path("cases/<id:case_id>/notices/<id:notice_id>/", views.notice, name="notice"),
    path("exchange/registries/", views_registries.registry_list, name="registries"),
    path("exchange/registries/<slug:code>/import/", views_registries.registry_upload, name="registry_import"),
    path(
        "exchange/registries/<slug:code>/template/",
        views_registries.registry_template,
        name="registry_template",
    ),
    path("bundles/", views_bundles.held_up, name="bundles"),
    path("bundles/cases/<id:case_id>/decide/", views_bundles.decide, name="bundle_decide"),
    path(
        "bundles/cases/<id:case_id>/correction/",
        views_bundles.branch_correction,
        name="bundle_branch_correction",
    ),
    path(
        "bundles/cases/<id:case_id>/branches/<id:branch_case_id>/notices/<id:notice_id>/",
        views_bundles.branch_notice,
        name="bundle_branch_notice",
    ),
    # a bundle's item code goes to its questionnaire; every other code to views.counter_start
    path("counter/", views_bundles.counter_start, name="counter"),
    path("bundles/counter/<slug:code>/", views_bundles.counter_bundle, name="bundle_counter_start"),
    path(
        "bundles/counter/d/<id:application_id>/form/", views_bundles.counter_form, name="bundle_counter_form"
    ),
    path(
        "bundles/counter/d/<id:application_id>/materials/",
        views_bundles.counter_materials,
        name="bundle_counter_materials",
    ),
    path(
        "bundles/counter/d/<id:application_id>/delivery/",
        views_bundles.counter_delivery,
        name="bundle_counter_delivery",
    ),
    path(
        "bundles/counter/d/<id:application_id>/review/",
        views_bundles.counter_review,
        name="bundle_counter_review",
    ),
    path("counter/d/<id:application_id>/form/", views.counter_form, name="counter_form"),
    path("counter/d/<id:application_id>/materials/", views.counter_materials, name="counter_materials"),
    path("counter/d/<id:application_id>/delivery/", views.counter_delivery, name="counter_delivery"),
    path("counter/d/<id:application_id>/review/", views.counter_review, name="counter_review"),
]

urlpatterns += [
    path("exchange/catalogue/", views_exchange.catalogue_page, name="exchange_catalogue"),
    path("exchange/catalogue/<id:resource_id>/", views_exchange.resource_page, name="exchange_resource"),
    path(
        "exchange/catalogue/<id:resource_id>/request/",
        views_exchange.request_form,
        name="exchange_request_form",
    ),
    path("exchange/requests/", views_exchange.my_requests, name="exchange_requests"),
    path("exchange/approvals/", views_exchange.approvals, name="exchange_approvals"),
    path("exchange/requests/<id:request_id>/", views_exchange.request_page, name="exchange_request"),
    path("exchange/requests/<id:request_id>/approve/", views_exchange.approve, name="exchange_approve"),
    path("exchange/requests/<id:request_id>/refuse/", views_exchange.refuse, name="exchange_refuse"),
    path("exchange/grants/<id:grant_id>/revoke/", views_exchange.revoke, name="exchange_revoke"),
    path("exchange/clients/", views_exchange.clients_page, name="exchange_clients"),
    path(
        "exchange/clients/<id:client_id>/revoke/", views_exchange.client_revoke, name="exchange_client_revoke"
    ),
    path("exchange/figures/", views_exchange.figures_page, name="exchange_figures"),
]
