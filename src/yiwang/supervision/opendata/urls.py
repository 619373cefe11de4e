from django.urls import path

from . import views

app_name = "opendata"

urlpatterns = [
    path("", views.index, name="index"),
    path("catalog.jsonld", views.catalog_jsonld, name="catalog_jsonld"),
    # ckanapi calls <site>/api/action/<name>; CKAN also answers at /api/3/action/<name>.
    path("api/3/action/<str:name>", views.action, name="action"),
    path("api/action/<str:name>", views.action, name="action_unversioned"),
    path("<slug:name>/", views.dataset, name="dataset"),
    path("<slug:name>.jsonld", views.dataset_jsonld, name="dataset_jsonld"),
    path("<slug:name>.<slug:extension>", views.download, name="download"),
]
