from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "yiwang.portal"
    label = "portal"
