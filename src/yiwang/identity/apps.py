from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"
    verbose_name = _("身份认证")

    def ready(self) -> None:
        # Changes of staff roles drop the cached roles the workbench reads (selectors.staff_roles).
        from . import receivers  # noqa: F401
