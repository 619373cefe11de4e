from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "yiwang.supervision"
    label = "supervision"
    verbose_name = _("监督与评价")

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the receivers)
