"""URLs of the identity oidc pages (mounted by identity/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
