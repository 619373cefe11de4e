"""The cases world (tests/cases/conftest.py) plus a licensing item whose approval issues an
e-certificate and a later item that requires that certificate as a material."""

from __future__ import annotations

import pytest

from tests import factories
from tests.cases.conftest import _fast, world  # noqa: F401  (fixtures reused)
from yiwang.catalog import services as catalog
from yiwang.catalog.models import StandardMaterial


@pytest.fixture
def items(world):  # noqa: F811
    std = factories.standard_item(
        "01020000300",
        name="食品小作坊登记",
        result_name="食品小作坊登记证",
        result_kind="certificate",
        result_certificate_type="食品小作坊登记证",
    )
    issuing = factories.implementation(std, world.dept, promised_limit_days=10)
    catalog.publish(issuing)
    std2 = factories.standard_item(
        "01020000400",
        name="食品小作坊变更登记",
        result_name="食品小作坊登记证",
        result_kind="certificate",
        result_certificate_type="食品小作坊登记证",
    )
    StandardMaterial.objects.create(
        standard=std2,
        name="食品小作坊登记证",
        form="electronic",
        source="e_certificate",
        certificate_type="食品小作坊登记证",
        sort=3,
    )
    using = factories.implementation(std2, world.dept, promised_limit_days=10)
    catalog.publish(using)
    issuing.refresh_from_db()
    using.refresh_from_db()
    return issuing, using
