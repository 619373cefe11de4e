"""Signal receivers: the cases app's steps drive the bundle's umbrella and branch cases.

They run inside the step's transaction; an error here aborts the step (nothing half written).
Each first looks at ``case.bundle_role``, so that the ordinary cases, nearly all of them, cost
them no query.
"""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases import signals

from . import services


@receiver(signals.case_accepted, dispatch_uid="bundles.accepted")
def _accepted(sender, case, actor=None, opened=None, **kwargs) -> None:
    if case.bundle_role != "umbrella":
        return
    services.spawn_branches(case, actor=actor, opened=opened)


@receiver(signals.correction_requested, dispatch_uid="bundles.correction")
def _correction(sender, case, items, actor=None, **kwargs) -> None:
    if case.bundle_role != "branch":
        return
    services.on_branch_correction(case, items)


@receiver(signals.case_decided, dispatch_uid="bundles.decided")
def _decided(sender, case, actor=None, **kwargs) -> None:
    if case.bundle_role == "branch":
        services.on_branch_decided(case)
    elif case.bundle_role == "umbrella":
        services.check_unified_decision(case)


@receiver(signals.case_delivered, dispatch_uid="bundles.delivered")
def _delivered(sender, case, actor=None, **kwargs) -> None:
    if case.bundle_role != "umbrella":
        return
    services.on_umbrella_delivered(case)


@receiver(signals.case_closed, dispatch_uid="bundles.closed")
def _closed(sender, case, actor=None, **kwargs) -> None:
    if case.bundle_role != "umbrella":
        return
    services.on_umbrella_closed(case)
