"""URLs of the identity auth pages (mounted by identity/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
