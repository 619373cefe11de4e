"""Background jobs of the exchange app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="exchange.render_certificate", ignore_result=True)
def render_certificate(cert_id: int) -> None:
    from .models import ECertificate
    from .services import render_file

    cert = ECertificate.objects.filter(pk=cert_id).first()
    if cert is not None:
        render_file(cert)


@shared_task(name="exchange.seal_log", ignore_result=True)
def seal_log() -> None:
    from .log import seal_all

    seal_all()
