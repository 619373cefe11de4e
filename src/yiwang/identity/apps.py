from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"
