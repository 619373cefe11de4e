from django.contrib import admin  # noqa: F401

from . import (
    admin_accounts,  # noqa: F401  people, companies, mandates, base registries (read-only, masked)
    admin_clients,  # noqa: F401  OIDC clients (city platforms) with their settings inline
    admin_staff,  # noqa: F401  staff roles (audited), admin login/logout via /auth/
)
