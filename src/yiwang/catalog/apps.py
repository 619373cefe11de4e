from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "yiwang.catalog"
    label = "catalog"
    verbose_name = _("政务服务事项目录")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from .models import ServiceItem

        def _drop_from_search(sender, instance: ServiceItem, **kwargs) -> None:
            # Items are withdrawn, not deleted, in normal use; a deletion by hand (shell, a
            # cascade from a test fixture) must not leave a row that still counts in totals.
            from . import search

            search.remove_items([instance.pk])

        post_delete.connect(
            _drop_from_search, sender=ServiceItem, weak=False, dispatch_uid="catalog_drop_from_search"
        )
