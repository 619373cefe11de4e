"""What ``make demo`` adds after the catalogue: people and companies in the base registries
(the real-name tables and the exchange's registries),
the demo applicants (verified, with a company and a mandate), the example city portal as an
OIDC client, demo cases in every state with their staff, and a known TOTP secret for each
back-office administrator (the admin requires a second factor). Every step is idempotent, so
the second ``make demo`` only prints the logins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

# A fixed, printed secret: demo only. Any authenticator app (or `oathtool --totp -b`) makes codes.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_REGISTRY_PEOPLE = 2000
DEMO_REGISTRY_COMPANIES = 500


@dataclass
class DemoExtras:
    people: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, description
    staff: list[tuple[str, str, str]] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)
    city_portal: tuple[str, str] = ("", "")
    exchange_client: tuple[str, str] = ("", "")  # client id, secret (only when made by this load)
    admins_with_totp: list[str] = field(default_factory=list)


def load_demo_extras() -> DemoExtras:
    from yiwang.cases.demo import create_demo_cases
    from yiwang.identity import mfa
    from yiwang.identity.management.commands.register_city_portal import DEFAULT_CLIENT_ID, DEFAULT_SECRET
    from yiwang.identity.models import PopulationRecord, Role, StaffRole, TotpDevice
    from yiwang.identity.synthetic import create_demo_accounts, generate_registries

    out = DemoExtras()
    if PopulationRecord.objects.count() < DEMO_REGISTRY_PEOPLE:
        generate_registries(people=DEMO_REGISTRY_PEOPLE, companies=DEMO_REGISTRY_COMPANIES)
    from yiwang.exchange.registry_demo import create_demo_registries

    # The base registries (人口库, 法人库, 信用/监管库, 电子证照库) with the same people and
    # companies, and the owner departments' data administrators.
    registry_admins = create_demo_registries(people=DEMO_REGISTRY_PEOPLE, companies=DEMO_REGISTRY_COMPANIES)
    for account in create_demo_accounts():
        out.people.append((account.username, account.password, account.description))
    from django.core.management import call_command
    from oauth2_provider.models import Application

    if not Application.objects.filter(client_id=DEFAULT_CLIENT_ID).exists():
        call_command("register_city_portal", stdout=_Null())
    out.city_portal = (DEFAULT_CLIENT_ID, DEFAULT_SECRET)
    report = create_demo_cases()
    out.staff = list(report.logins)
    out.cases = dict(report.cases)
    from yiwang.bundles.demo import create_demo_bundles

    out.staff += create_demo_bundles().logins  # the ready-made bundles and their staff
    from yiwang.exchange.demo import create_demo_sharing
    from yiwang.identity.synthetic import DEMO_PASSWORD
    from yiwang.supervision.demo import create_demo_ratings

    out.staff += create_demo_sharing(DEMO_PASSWORD)  # the sharing catalogue, requests and grants
    out.staff += create_demo_ratings()  # ratings on the demo item, a follow-up, a re-rating
    from yiwang.supervision.figures import rebuild

    rebuild()  # the figures (效能) of the demo's cases, recounted: the figures page has data
    out.staff += registry_admins
    from yiwang.exchange.demo import create_demo_client

    out.exchange_client = create_demo_client()  # a department system with logged requests
    admins = get_user_model().objects.filter(is_superuser=True) | get_user_model().objects.filter(
        pk__in=StaffRole.objects.filter(
            role__in=[Role.CATALOGUE_ADMIN, Role.PLATFORM_ADMIN, Role.DATA_ADMIN]
        ).values("user_id")
    )
    for user in admins.distinct():
        if not TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
            mfa.enrol_by_operator(user, DEMO_TOTP_SECRET, replace=True)
        out.admins_with_totp.append(user.get_username())
    return out


class _Null:
    def write(self, *_args) -> None:
        return None

    def flush(self) -> None:
        return None
