"""Signals the cases app sends after a step of a case, inside the step's transaction.

Other apps listen instead of being called from ``cases.actions`` (the bundles app drives its
umbrella and branch cases from them, docs/bundles.md). A receiver that raises aborts the step:
it is part of the same transaction. Every signal is sent with ``sender=Case`` and ``case=`` the
locked, updated case; ``actor=`` the person acting (None for the system).
"""

from __future__ import annotations

from django.dispatch import Signal

# Submit: a new case was made from a draft (``services.submit``); its materials carry the case.
case_submitted = Signal()
# Accept: the case was accepted (its open tasks are the ones after acceptance); ``opened`` = the
# workflow tasks the acceptance opened.
case_accepted = Signal()
# RefuseToAccept: the case was refused at acceptance (不予受理; ``case.outcome`` is ``refused``).
case_refused = Signal()
# RequestCorrection (and a bundle branch's correction): ``items`` = the correction items.
correction_requested = Signal()
# Decide: the case was decided (``case.outcome`` is set).
case_decided = Signal()
# Delivery completed (counter/electronic at once, courier when signed for).
case_delivered = Signal()
# Close: the case was closed.
case_closed = Signal()
