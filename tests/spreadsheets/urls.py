"""The root URLconf with the spreadsheet pages wired in as the lead will wire them."""

from django.urls import include, path

from yiwang.urls import urlpatterns as root

urlpatterns = [
    path("admin/catalog/spreadsheets/", include("yiwang.catalog.spreadsheets.urls")),
    *root,
]
