"""Reads of department system clients (the data administrator's page)."""

from __future__ import annotations

from django.db.models import QuerySet

from .catalogue_selectors import AnyUser, data_admin_q
from .models import ExchangeClient


def clients_of(user: AnyUser) -> QuerySet[ExchangeClient]:
    """The systems of the departments ``user`` is data administrator of, newest first."""
    return (
        ExchangeClient.objects.filter(data_admin_q(user, "department__"))
        .select_related("application", "department")
        .order_by("revoked_at", "-pk")
    )


def client_of(user: AnyUser, client_id: int) -> ExchangeClient | None:
    return clients_of(user).filter(pk=client_id).first()
