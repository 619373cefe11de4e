from __future__ import annotations

import pytest

from yiwang.regions import selectors, services
from yiwang.regions.models import Region, RegionLevel

pytestmark = pytest.mark.django_db


def test_load_fujian_from_gbt2260():
    created = services.load_gbt2260("350000")
    assert created >= 90
    prov = Region.objects.get(code="350000")
    assert prov.name == "福建省" and prov.level == RegionLevel.PROVINCE
    fz = Region.objects.get(code="350100")
    assert fz.name == "福州市" and fz.parent == prov
    gulou = Region.objects.get(code="350102")
    assert gulou.name == "鼓楼区" and gulou.parent == fz and gulou.path == "350000/350100/350102/"
    assert Region.objects.filter(level=RegionLevel.CITY, code__startswith="35").count() == 9
    assert services.load_gbt2260("350000") == 0  # idempotent
    assert [r.code for r in selectors.ancestors(gulou)] == ["350000", "350100", "350102"]
    assert selectors.subtree(fz).filter(code="350102").exists()
    assert not selectors.subtree(fz).filter(code="350200").exists()


def test_unknown_province_code():
    with pytest.raises(ValueError, match="980000"):
        services.load_gbt2260("980000")


def test_township_csv_imports_good_rows_and_reports_bad():
    services.load_gbt2260("350000")
    csv_text = (
        "code,name,parent_code\n"
        "350102001,鼓东街道,350102\n"
        "350102002,鼓西街道,350102\n"
        "35010200X,坏代码,350102\n"
        "350103001,错位街道,350102\n"
        "350102003,,350102\n"
        "350102004,无上级,359999\n"
        "350102001,重复街道,350102\n"
    )
    report = services.import_townships_csv(csv_text)
    assert report.created == 2
    lines = {line: err.field for line, err in report.errors}
    assert lines == {4: "code", 5: "code", 6: "name", 7: "parent_code", 8: "code"}
    town = Region.objects.get(code="350102001")
    assert town.level == RegionLevel.TOWNSHIP and town.parent.code == "350102"
    assert town.path == "350000/350100/350102/350102001/"
    assert "前6位" in dict(report.errors)[5].message


def test_township_csv_missing_column():
    report = services.import_townships_csv("code,name\n350102001,鼓东街道\n")
    assert report.errors and "parent_code" in report.errors[0][1].message
