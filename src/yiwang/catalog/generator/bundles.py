"""The generator's bundle step: the ready-made bundles (一件事) of every prefecture.

After the implementations are published, each prefecture gets 投资项目多评合一 and
进口货物单一窗口申报 at the city, 我要开餐馆 and 孩子出生了 in its first district
(``yiwang.bundles.demo``, data in ``yiwang.bundles.readymade``). Member items the random draw
did not give a department are claimed and published; a prefecture's customs is created there.
"""

from __future__ import annotations

from typing import Any

from yiwang.regions.models import Region, RegionLevel


def most_items(province: Region, *, cities: int | None = None) -> int:
    """The most catalogue items the bundle step can add: per prefecture, each bundle's own item
    and every member (none of them drawn by the generator). The generator draws this many fewer
    and tops up afterwards, so the province ends with the number of items asked for."""
    from yiwang.bundles.readymade import BUNDLES

    qs = Region.objects.filter(parent=province, level=RegionLevel.CITY)
    prefectures = min(qs.count(), cities) if cities else qs.count()
    return prefectures * sum(1 + len(spec.members) for spec in BUNDLES)


def build_bundles(province: Region, *, cities: int | None = None, progress: Any = None) -> int:
    """Create and publish every prefecture's ready-made bundles; the number of bundles."""
    from yiwang.bundles.demo import create_province_bundles

    return len(create_province_bundles(province, cities=cities, progress=progress))
