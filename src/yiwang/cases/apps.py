from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = _("办件")

    def rotate_data_keys(self, kid: str, batch_size: int) -> dict[str, tuple[int, int]]:
        """Called by ``yiwang rotate-data-keys`` (identity.services.rotate_data_keys)."""
        from .personal import rotate_data_keys

        return rotate_data_keys(kid, batch_size)
