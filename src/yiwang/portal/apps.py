from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "yiwang.portal"
    label = "portal"
    verbose_name = _("网上办事大厅")
