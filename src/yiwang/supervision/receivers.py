"""Supervision listens to the cases app's step signals (inside the step's transaction): the
case's level is recomputed at once, and the flag rules that a step can break are checked."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases import signals

from . import services


@receiver(signals.case_accepted, dispatch_uid="supervision.accepted")
def _accepted(sender, case, **kwargs) -> None:
    services.recompute_case(case)


@receiver(signals.correction_requested, dispatch_uid="supervision.correction")
def _correction(sender, case, **kwargs) -> None:
    services.check_second_correction(case)
    services.recompute_case(case)


@receiver(signals.case_decided, dispatch_uid="supervision.decided")
def _decided(sender, case, **kwargs) -> None:
    services.check_materials_at_decision(case)
    services.recompute_case(case)
