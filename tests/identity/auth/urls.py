"""The project's URLs plus a page guarded by require_acr(3), for the step-up tests."""

from django.http import HttpResponse
from django.urls import include, path

from yiwang.identity.stepup import require_acr


@require_acr(3)
def guarded(request):
    return HttpResponse("guarded page")


urlpatterns = [
    path("stepup-test/", guarded, name="stepup_test"),
    path("", include("yiwang.urls")),
]
