"""The demo's base registries (``make demo``): the registries filled with the demo's people and
companies (``synthetic.ensure_demo``), and a data administrator (数据管理员) of each writable
registry's owner department, who updates it from the workbench (/workbench/exchange/registries/)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from . import registries, synthetic

# username per registry: the owner department's data administrator
DEMO_REGISTRY_ADMINS = {"population": "renkou", "legal_entity": "faren", "credit": "xinyong"}


def create_demo_registries(*, people: int, companies: int) -> list[tuple[str, str, str]]:
    """Fill the registries (idempotent) and return the data administrators' logins
    (username, password, description); none when the region tree has no owner departments."""
    from yiwang.identity.models import Role, StaffRole
    from yiwang.identity.synthetic import DEMO_PASSWORD

    synthetic.ensure_demo(people=people, companies=companies)
    User = get_user_model()
    logins = []
    for code, username in DEMO_REGISTRY_ADMINS.items():
        reg = registries.REGISTRIES[code]
        dept = registries.owner_department(reg)
        if dept is None:
            continue
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": "数据管理员"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        StaffRole.objects.get_or_create(user=user, role=Role.DATA_ADMIN, region=dept.region, department=dept)
        logins.append((username, DEMO_PASSWORD, f"{dept.name}数据管理员（更新{reg.name}）"))
    return logins
