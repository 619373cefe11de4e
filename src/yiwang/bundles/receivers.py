"""Signal receivers: the cases app's steps drive the bundle's umbrella and branch cases.

They run inside the step's transaction; an error here aborts the step (nothing half written).
"""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases import signals

from . import services


@receiver(signals.case_accepted, dispatch_uid="bundles.accepted")
def _accepted(sender, case, actor=None, **kwargs) -> None:
    services.spawn_branches(case, actor=actor)


@receiver(signals.correction_requested, dispatch_uid="bundles.correction")
def _correction(sender, case, items, actor=None, **kwargs) -> None:
    services.on_branch_correction(case, items)


@receiver(signals.case_decided, dispatch_uid="bundles.decided")
def _decided(sender, case, actor=None, **kwargs) -> None:
    # A branch case is never an umbrella: one query for an ordinary case's decision, two at most.
    if not services.on_branch_decided(case):
        services.check_unified_decision(case)


@receiver(signals.case_delivered, dispatch_uid="bundles.delivered")
def _delivered(sender, case, actor=None, **kwargs) -> None:
    services.on_umbrella_delivered(case)


@receiver(signals.case_closed, dispatch_uid="bundles.closed")
def _closed(sender, case, actor=None, **kwargs) -> None:
    services.on_umbrella_closed(case)
