"""Wire into the root URLconf *before* the admin's own patterns so the admin catch-all does not
swallow it: ``path("admin/catalog/spreadsheets/", include("yiwang.catalog.spreadsheets.urls"))``."""

from django.urls import path

from . import views

app_name = "spreadsheets"

urlpatterns = [
    path("", views.import_view, name="import"),
    path("export.xlsx", views.export_view, name="export"),
    path("template.xlsx", views.template_view, name="template"),
    path("runs/<id:run_id>/", views.run_view, name="run"),
    path("runs/<id:run_id>/report.xlsx", views.report_view, name="report"),
]
