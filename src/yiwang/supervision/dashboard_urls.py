from django.urls import path

from . import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.page, name="page"),
    path("data.json", dashboard_views.data, name="data"),
    path("stream/", dashboard_views.stream, name="stream"),
]
