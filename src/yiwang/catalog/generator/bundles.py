"""The generator's bundle step: the ready-made bundles (一件事) of every prefecture.

After the implementations are published, each prefecture gets 投资项目多评合一 and
进口货物单一窗口申报 at the city, 我要开餐馆 and 孩子出生了 in its first district
(``yiwang.bundles.demo``, data in ``yiwang.bundles.readymade``). Member items the random draw
did not give a department are claimed and published; a prefecture's customs is created there.
"""

from __future__ import annotations

from typing import Any

from yiwang.regions.models import Region


def build_bundles(province: Region, *, cities: int | None = None, progress: Any = None) -> int:
    """Create and publish every prefecture's ready-made bundles; the number of bundles."""
    from yiwang.bundles.demo import create_province_bundles

    return len(create_province_bundles(province, cities=cities, progress=progress))
