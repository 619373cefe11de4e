"""Reads for regions."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Department, Region


def region_by_code(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def subtree(region: Region) -> QuerySet[Region]:
    """The region and every region below it."""
    return Region.objects.filter(path__startswith=region.path)


def ancestors(region: Region) -> list[Region]:
    codes = [c for c in region.path.split("/") if c]
    by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def departments_in(region: Region, *, below: bool = False) -> QuerySet[Department]:
    qs = Department.objects.select_related("region")
    return qs.filter(region__path__startswith=region.path) if below else qs.filter(region=region)
