"""Supervision listens to the cases app's step signals (inside the step's transaction): the
case's level is recomputed at once, the flag rules that a step can break are checked, and the
step's addition to the figures is inserted (``figures``)."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases import signals

from . import figures, services


@receiver(signals.case_submitted, dispatch_uid="supervision.submitted")
def _submitted(sender, case, **kwargs) -> None:
    figures.case_submitted(case)


@receiver(signals.case_accepted, dispatch_uid="supervision.accepted")
def _accepted(sender, case, **kwargs) -> None:
    services.recompute_case(case)
    figures.case_accepted(case)


@receiver(signals.case_refused, dispatch_uid="supervision.refused")
def _refused(sender, case, **kwargs) -> None:
    figures.case_refused(case)


@receiver(signals.correction_requested, dispatch_uid="supervision.correction")
def _correction(sender, case, actor=None, **kwargs) -> None:
    services.check_second_correction(case)
    services.recompute_case(case)
    figures.correction_requested(case, actor)


@receiver(signals.case_decided, dispatch_uid="supervision.decided")
def _decided(sender, case, **kwargs) -> None:
    services.check_materials_at_decision(case)
    services.recompute_case(case)
    figures.case_decided(case)
