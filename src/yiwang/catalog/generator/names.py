"""Names, codes, phones and addresses that look like a real province's."""

from __future__ import annotations

import random

from yiwang.regions.models import DepartmentKind

# Area codes of Fujian's prefectures (others get a stable made-up one).
AREA_CODES = {
    "3501": "0591",
    "3502": "0592",
    "3503": "0594",
    "3504": "0598",
    "3505": "0595",
    "3506": "0596",
    "3507": "0599",
    "3508": "0597",
    "3509": "0593",
}


def area_code(region_code: str) -> str:
    if region_code[2:4] == "00":  # the province: its capital's code
        region_code = region_code[:2] + "01"
    return AREA_CODES.get(region_code[:4]) or f"0{int(region_code[:4]) % 900 + 100}"


# Department names by kind: (province, prefecture, county) suffixes after the region name.
_DEPT_SUFFIX: dict[str, tuple[str, str, str]] = {
    "fgw": ("发展和改革委员会", "发展和改革委员会", "发展和改革局"),
    "jyj": ("教育厅", "教育局", "教育局"),
    "gaj": ("公安厅", "公安局", "公安局"),
    "mzj": ("民政厅", "民政局", "民政局"),
    "sfj": ("司法厅", "司法局", "司法局"),
    "czj": ("财政厅", "财政局", "财政局"),
    "rsj": ("人力资源和社会保障厅", "人力资源和社会保障局", "人力资源和社会保障局"),
    "zrzyj": ("自然资源厅", "自然资源局", "自然资源局"),
    "sthjj": ("生态环境厅", "生态环境局", "生态环境局"),
    "zjj": ("住房和城乡建设厅", "住房和城乡建设局", "住房和城乡建设局"),
    "jtj": ("交通运输厅", "交通运输局", "交通运输局"),
    "slj": ("水利厅", "水利局", "水利局"),
    "nyncj": ("农业农村厅", "农业农村局", "农业农村局"),
    "swj": ("商务厅", "商务局", "商务局"),
    "wlj": ("文化和旅游厅", "文化和旅游局", "文化体育和旅游局"),
    "wjw": ("卫生健康委员会", "卫生健康委员会", "卫生健康局"),
    "yjglj": ("应急管理厅", "应急管理局", "应急管理局"),
    "scjgj": ("市场监督管理局", "市场监督管理局", "市场监督管理局"),
    "ybj": ("医疗保障局", "医疗保障局", "医疗保障局"),
    "tyjrj": ("退役军人事务厅", "退役军人事务局", "退役军人事务局"),
    "lyj": ("林业局", "林业局", "林业局"),
    "tjj": ("统计局", "统计局", "统计局"),
}

LINE_KINDS: list[str] = [
    k.value for k in DepartmentKind if k not in (DepartmentKind.TOWNSHIP_OFFICE, DepartmentKind.CUSTOMS)
]


def kind_code(kind: str) -> str:
    """Three-digit code of a department kind: its place in DepartmentKind (used in basic codes
    and as the department code within a region, so 市场监管 is 018 everywhere)."""
    return f"{[k.value for k in DepartmentKind].index(kind) + 1:03d}"


def short_name(name: str) -> str:
    """鼓楼区 → 鼓楼, 闽侯县 → 闽侯, 福清市 → 福清 (two-character names keep their suffix)."""
    return name[:-1] if len(name) > 2 and name[-1] in "省市区县旗" else name


def department_name(kind: str, level: int, region_name: str, city_name: str = "") -> str:
    if kind == DepartmentKind.TOWNSHIP_OFFICE:
        return f"{region_name}便民服务中心"
    county = level == 3
    district = county and region_name.endswith("区")
    if kind == "swju":
        return f"国家税务总局{city_name if county else ''}{region_name}税务局"
    if kind == "gjj":
        if level == 1:
            return f"{region_name}直单位住房公积金中心"
        if level == 2:
            return f"{region_name}住房公积金中心"
        return f"{city_name}住房公积金中心{short_name(region_name)}管理部"
    if district and kind == "gaj":
        return f"{city_name}公安局{short_name(region_name)}分局"
    if county and kind in ("sthjj", "zrzyj"):
        return f"{city_name}{_DEPT_SUFFIX[kind][1]}{short_name(region_name)}分局"
    return region_name + _DEPT_SUFFIX[kind][level - 1]


_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(region_code: str, rng: random.Random) -> str:
    """A unified social credit code of a government body (登记管理部门 1, 机关 1) with valid
    GB 11714 and GB 32100 check characters."""
    body = "".join(str(rng.randint(0, 9)) for _ in range(8))
    c9 = 11 - sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    org = body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    first17 = "11" + region_code[:6] + org
    total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def phone(region_code: str, rng: random.Random) -> str:
    return f"{area_code(region_code)}-{rng.choice('2345678')}{rng.randint(0, 9999999):07d}"


_ROADS = [
    "府前路",
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "五一路",
    "八一路",
    "新华路",
    "和平路",
    "迎宾大道",
    "江滨路",
    "学府路",
    "工业路",
    "行政中心路",
    "东街",
    "南大街",
    "滨海大道",
    "世纪大道",
    "环城路",
    "文化路",
]


def address(full_region_name: str, rng: random.Random) -> str:
    return f"{full_region_name}{rng.choice(_ROADS)}{rng.randint(1, 399)}号"


OPENING_HOURS = [
    "周一至周五 上午8:30-12:00，下午14:30-17:30（法定节假日除外）",
    "周一至周五 上午8:00-12:00，下午14:30-17:30；周六上午9:00-12:00 延时服务",
    "周一至周五 上午8:30-12:00，下午15:00-18:00（夏令时）；法定节假日除外",
]

# Characters of common southern Chinese place names, for generated townships.
_FIRST = (
    "青洪白龙凤金石马梅桃竹松莲溪岭山林田东西南北上下大小新古鹤云峰桥塘湖沙洋坑埔尾头阳源亭岩"
    "丰安福兴宁永长广德仁和平盛兰霞浦江城乐华庄后前中"
)
_SECOND = "口塘沙溪山坪洋岭湖头埔尾源阳坂洲峰亭岩坑桥田林港厝湾里墩美兴安宁丰和园洞亭"
_DIRECTIONS = ["城东", "城西", "城南", "城北", "东城", "西城", "南街", "北门"]


def township_names(county_name: str, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(name, kind) pairs, kind one of 街道/镇/乡: districts are mostly streets, counties towns."""
    district = county_name.endswith("区")
    county = county_name.endswith("县")
    names: list[tuple[str, str]] = []
    used: set[str] = set()
    if district or not county:
        names.append((short_name(county_name) + "街道", "街道"))
    else:
        names.append(("城关镇", "镇"))
    used.add(names[0][0][:-2] if names[0][1] == "街道" else names[0][0][:-1])
    directions = list(_DIRECTIONS)
    rng.shuffle(directions)
    while len(names) < count:
        roll = rng.random()
        kind = (
            ("街道" if roll < 0.75 else "镇")
            if district
            else ("镇" if roll < 0.7 else "乡" if county else "街道")
        )
        if kind == "街道" and directions and rng.random() < 0.5:
            base = directions.pop()
        else:
            base = rng.choice(_FIRST) + rng.choice(_SECOND)
        if base in used or base[0] == base[1]:
            continue
        used.add(base)
        names.append((base + kind, kind))
    return names


TOWNSHIP_CODE_START = {"街道": 1, "镇": 100, "乡": 200}
