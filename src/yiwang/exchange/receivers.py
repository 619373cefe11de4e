"""The cases app's decision applies the result of an approved case (inside its transaction):
issue a certificate, or revoke the holder's certificate for a deregistration."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases.signals import case_decided

from . import services


@receiver(case_decided, dispatch_uid="exchange.issue_certificate")
def issue_certificate(sender, case, actor=None, **kwargs) -> None:
    services.apply_result(case, actor=actor)
