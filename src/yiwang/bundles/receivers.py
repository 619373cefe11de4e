"""Signal receivers: the cases app's steps drive the bundle's umbrella and branch cases."""

from __future__ import annotations

from django.dispatch import receiver

from yiwang.cases import signals
