"""Key rotation with two keys: everything re-encrypted under the new key, readable without the old."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.management import call_command

from yiwang.core import crypto
from yiwang.identity import services
from yiwang.identity.models import Person, TotpDevice

from .conftest import register

pytestmark = pytest.mark.django_db


def key(kid: str) -> str:
    return f"{kid}:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def keys(monkeypatch):
    def use(value: str) -> None:
        monkeypatch.setenv("YIWANG_DATA_KEYS", value)
        crypto.reset_key_cache()

    yield use
    monkeypatch.undo()
    crypto.reset_key_cache()


def test_rotation_with_two_keys(registry, keys):
    k1, k2 = key("k1"), key("k2")
    keys(k1)
    people = [register(p) for p in registry[:3]]
    TotpDevice.objects.create(
        user=people[0].user, secret_cipher=crypto.encrypt("JBSWY3DPEHPK3PXP", context="totp"), key_id="k1"
    )
    assert all(p.key_id == "k1" and p.id_number_cipher.startswith("k1:") for p in people)

    keys(f"{k2},{k1}")  # the new key first; the old one still decrypts
    out = io.StringIO()
    call_command("rotate_data_keys", stdout=out)
    assert "重新加密 3 条" in out.getvalue() and "重新加密 1 条" in out.getvalue()

    keys(k2)  # the old key is gone: everything must still read
    for p, synthetic in zip(Person.objects.order_by("pk"), registry[:3], strict=True):
        assert p.key_id == "k2"
        assert p.id_number_cipher.startswith("k2:") and p.phone_cipher.startswith("k2:")
        assert services.id_number_of(p) == synthetic.id_number
        assert crypto.decrypt(p.phone_cipher, context=services.PHONE_CONTEXT) == synthetic.phone
    device = TotpDevice.objects.get()
    assert (
        device.key_id == "k2" and crypto.decrypt(device.secret_cipher, context="totp") == "JBSWY3DPEHPK3PXP"
    )

    # A second run has nothing left to do.
    report = services.rotate_data_keys()
    assert report.rotated == {"person": 0, "totp": 0} and report.current == {"person": 3, "totp": 1}


def test_rotation_refuses_when_a_key_is_missing(registry, keys):
    keys(key("k1"))
    register(registry[0])
    keys(key("k3"))  # k1 was dropped before rotating
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="k1"):
        call_command("rotate_data_keys", stdout=io.StringIO())
    assert Person.objects.get().id_number_cipher.startswith("k1:")
