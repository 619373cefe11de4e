"""The cases app's decision issues the certificate of an approved case (inside its transaction)."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases.signals import case_decided

from . import services


@receiver(case_decided, dispatch_uid="exchange.issue_certificate")
def issue_certificate(sender, case, actor=None, **kwargs) -> None:
    services.issue_for_case(case, actor=actor)
