from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "yiwang.exchange"
    label = "exchange"
    verbose_name = _("电子证照与数据共享")

    def ready(self) -> None:
        # A decision on a case whose item produces a certificate issues it (receivers.py).
        from . import receivers  # noqa: F401

    def rotate_data_keys(self, kid: str, batch_size: int) -> dict[str, tuple[int, int]]:
        """Called by ``yiwang rotate-data-keys`` (identity.services.rotate_data_keys)."""
        from yiwang.cases.personal import rotate_column

        from .models import ECertificate, RegistryRecord
        from .registries import REGISTRIES
        from .services import DATA_CONTEXT

        out = {
            "exchange.certificate": rotate_column(
                ECertificate.objects.all(), {"data_cipher": DATA_CONTEXT}, kid, batch_size
            )
        }
        # Base registry records: each registry's ciphertexts are bound to its own context. The
        # values do not change, so no change number is taken (a feed reader's copy stays right).
        for code, reg in REGISTRIES.items():
            if reg.writable:
                out[f"exchange.registry.{code}"] = rotate_column(
                    RegistryRecord.objects.filter(registry=code),
                    {"data_cipher": reg.context},
                    kid,
                    batch_size,
                )
        return out
