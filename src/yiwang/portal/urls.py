from django.urls import include, path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("hello/", views.hello, name="hello"),
    path("items/", views.browse, name="browse"),
    path("items/<str:code>/", views.guide, name="guide"),
    path("items/<str:code>/versions/", views.versions, name="versions"),
    path("search/", views.search, name="search"),
    path("life-events/<str:code>/", views.life_event, name="life_event"),
    path("preferences/region/", views.set_region, name="set_region"),
    path("preferences/large-text/", views.set_large_text, name="set_large_text"),
    path("", include("yiwang.portal.urls_bundles")),  # before urls_cases: see urls_bundles
    path("", include("yiwang.portal.urls_cases")),
    path("", include("yiwang.portal.urls_certificates")),
]
