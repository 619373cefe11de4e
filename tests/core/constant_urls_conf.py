"""Another URL configuration, where ``portal:home`` lives elsewhere (test_constant_urls.py)."""

from django.http import HttpResponse
from django.urls import include, path


def view(request):
    return HttpResponse("")


urlpatterns = [path("elsewhere/", include(([path("", view, name="home")], "portal")))]
