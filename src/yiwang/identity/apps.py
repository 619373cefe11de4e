from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "yiwang.identity"
    label = "identity"

    def ready(self) -> None:
        # Changes of staff roles drop the cached roles the workbench reads (selectors.staff_roles).
        from . import receivers  # noqa: F401
