from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        # Before any URLconf is imported: every integer path argument is ``<id:...>``.
        from django.urls import register_converter

        from .params import IdConverter

        register_converter(IdConverter, "id")
