"""Reads for regions."""

from __future__ import annotations

from django.db.models import F, QuerySet

from .models import Department, Region, ServiceHall


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


def region_rows() -> QuerySet:
    """Every region as dicts, by code: the public region tree."""
    return Region.objects.order_by("code").values("code", "name", "level", parent_code=F("parent__code"))


def department_rows() -> QuerySet:
    """Every department's public contact details as dicts, by region and code."""
    return Department.objects.order_by("region__code", "code").values(
        "code",
        "name",
        "kind",
        "credit_code",
        "phone",
        "address",
        region_code=F("region__code"),
        region_name=F("region__name"),
    )


def hall_rows() -> QuerySet:
    """Every service hall's public details as dicts, by region and name."""
    return ServiceHall.objects.order_by("region__code", "name", "id").values(
        "name",
        "address",
        "phone",
        "opening_hours",
        "latitude",
        "longitude",
        region_code=F("region__code"),
        region_name=F("region__name"),
    )


def names_by_code(codes: list[str], *, using: str = "default") -> dict[str, str]:
    """Region names for ``codes`` (one query)."""
    return dict(Region.objects.using(using).filter(code__in=codes).values_list("code", "name"))
