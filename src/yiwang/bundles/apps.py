from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BundlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "yiwang.bundles"
    verbose_name = _("一件事一次办")

    def ready(self) -> None:
        # The cases app sends signals on acceptance, correction, decision, delivery and close;
        # the bundles app listens to drive the umbrella and branch cases (docs/bundles.md).
        from . import receivers  # noqa: F401
