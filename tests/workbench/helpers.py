from __future__ import annotations

from django.test import Client

from tests.cases.conftest import PDF, png_bytes  # noqa: F401
from yiwang.identity.sessions import ACR


def client_for(user, acr: int = 3) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[ACR] = acr
    session.save()
    return client
