from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def hello(request: HttpRequest) -> HttpResponse:
    """Django's hello world: the ceiling that benchmarks compare every page against."""
    return HttpResponse("Hello, world")


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {})
