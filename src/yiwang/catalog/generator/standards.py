"""Load the standard catalogue (themes, life events, standard items and their materials).

Idempotent: items are keyed by their basic code, so a second province on the same database
reuses the catalogue the first one loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yiwang.catalog.models import (
    ITEM_TYPE_CODES,
    LifeEvent,
    ResultKind,
    StandardItem,
    StandardMaterial,
    Synonym,
    Theme,
)

from . import catalogue
from .materials import CANCEL_KEEPS, MATERIALS, VARIANT_EXTRA
from .names import kind_code
from .themes import COMPANY_THEMES, LIFE_EVENTS, PERSON_THEMES

TYPE_LETTERS = {
    "L": "licensing",
    "C": "confirmation",
    "B": "benefit",
    "V": "levy",
    "A": "award",
    "J": "adjudication",
    "I": "inspection",
    "P": "penalty",
    "E": "enforcement",
    "O": "other_power",
    "S": "public_service",
}
AUDIENCES = {"p": "person", "c": "company", "b": "both"}

# Words people use for an item, added as aliases where the name contains the key.
ALIASES = {
    "居民身份证": "身份证、二代证",
    "普通护照": "护照、办护照",
    "往来港澳通行证": "港澳通行证、港澳签注",
    "往来台湾通行证": "台湾通行证、台胞证",
    "机动车驾驶证": "驾照、驾驶证",
    "社会保障卡": "社保卡",
    "住房公积金提取": "公积金提取、取公积金",
    "住房公积金个人住房贷款": "公积金贷款",
    "不动产转移登记": "房产过户、二手房过户",
    "不动产首次登记": "房产证办理",
    "出生医学证明": "出生证",
    "结婚登记": "领结婚证、登记结婚",
    "最低生活保障": "低保",
    "特困人员救助供养": "五保",
    "城乡居民基本养老保险": "新农保、居民养老保险",
    "城乡居民基本医疗保险": "医保参保、居民医保",
    "有限责任公司设立登记": "注册公司、开公司、营业执照办理",
    "个体工商户设立登记": "个体户营业执照、开店",
    "食品经营许可": "餐饮许可证、食品许可证",
    "生育登记": "准生证、生育服务证",
    "建筑工程施工许可证": "施工许可证、施工证",
    "环境影响报告": "环评审批",
    "异地就医备案": "异地医保、跨省就医",
    "无犯罪记录证明": "无犯罪证明、良民证",
    "公章刻制": "刻章",
    "教师资格认定": "教资认定",
    "户口迁移": "迁户口、落户",
}

SYNONYMS = {
    "身份证": "居民身份证,二代证",
    "社保": "社会保障,社会保险",
    "社保卡": "社会保障卡",
    "驾照": "机动车驾驶证,驾驶证",
    "户口": "户籍,户口簿,户口登记",
    "医保": "医疗保障,医疗保险",
    "公积金": "住房公积金",
    "营业执照": "市场主体登记,个体工商户,公司登记",
    "房产证": "不动产权证书,不动产登记",
    "过户": "转移登记",
    "低保": "最低生活保障",
    "五保": "特困人员救助供养",
    "结婚证": "结婚登记",
    "护照": "普通护照",
    "港澳通行证": "往来港澳通行证",
    "出生证": "出生医学证明",
    "准生证": "生育登记",
    "退休": "退休申请,养老保险待遇",
    "开饭店": "食品经营许可,小餐饮",
    "餐馆": "食品经营许可,小餐饮",
    "施工证": "建筑工程施工许可证",
    "环评": "环境影响评价,环境影响报告",
    "卫生许可证": "公共场所卫生许可",
    "新农合": "城乡居民基本医疗保险",
    "新农保": "城乡居民基本养老保险",
    "刻章": "公章刻制",
    "良民证": "无犯罪记录证明",
    "教资": "教师资格",
}

_CONDITIONS = {
    "licensing": "申请人具备与所申请事项相适应的场所、设施、设备和专业人员，具有健全的管理制度，符合法律、法规规定的其他条件。",
    "confirmation": "申请人提交的材料齐全、符合法定形式，所申请确认的事实清楚、权属明确。",
    "benefit": "申请人符合本省规定的给付对象条件，如实申报家庭收入和财产状况。",
    "levy": "纳税人（缴费人）依法负有缴纳义务。",
    "award": "符合奖励条件，经审核认定。",
    "adjudication": "当事人之间存在与行政管理活动密切相关的民事纠纷，属于本机关管辖范围。",
    "other_power": "申请人提交的材料齐全、符合法定形式。",
    "public_service": "本人或其委托代理人持有效身份证件申请。",
}
_VARIANT_DAYS = {"变更": 0.5, "注销": 0.25, "补领": 0.5, "补发": 0.5, "补证": 0.5, "换证": 0.5, "换领": 1.0}


@dataclass
class StandardSpec:
    basic_code: str
    name: str
    item_type: str
    kind: str
    audience: str
    days: int | None
    instant: bool
    levels: str
    weight: int
    result: str
    themes: list[str]
    materials: list[str]
    legal_basis: str
    fee_standard: str = ""
    fee_basis: str = ""
    aliases: str = ""
    variant: str = ""
    extra: dict = field(default_factory=dict)


def _variant_name(name: str, variant: str) -> str:
    return name.replace("{}", variant) if "{}" in name else f"{name}（{variant}）"


def catalogue_specs() -> list[StandardSpec]:
    """Every standard item of the built-in catalogue, in code order."""
    specs: list[StandardSpec] = []
    serial: dict[tuple[str, str], int] = {}
    for kind, text in catalogue.ITEMS.items():
        for line in text.strip().splitlines():
            if not line.strip():
                continue
            f = [x.strip() for x in line.split("|")]
            name, t, aud, days, levels, weight, sub, result, themes, mats, legal = f[:11]
            fee_standard, _, fee_basis = f[11].partition(";") if len(f) > 11 else ("", "", "")
            item_type = TYPE_LETTERS[t]
            # The serial counts within type and kind (docs/catalogue.md, "Item codes").
            n = serial[(item_type, kind)] = serial.get((item_type, kind), 0) + 1
            variants = catalogue.SUBITEMS.get(sub, sub.split(",")) if sub else [""]
            for i, variant in enumerate(variants):
                full = _variant_name(name, variant) if variant else name.replace("{}", "")
                d = int(days) if days not in ("", "0") else None
                if d and variant in _VARIANT_DAYS:
                    d = max(1, round(d * _VARIANT_DAYS[variant]))
                keys = [k for k in mats.split(",") if k]
                if variant == "注销":
                    keys = [k for k in keys if k in CANCEL_KEEPS]
                keys += [k for k in VARIANT_EXTRA.get(variant, []) if k not in keys]
                specs.append(
                    StandardSpec(
                        basic_code=f"{ITEM_TYPE_CODES[item_type]}{kind_code(kind)}{n:04d}{(i + 1 if variant else 0):02d}",
                        name=full,
                        item_type=item_type,
                        kind=kind,
                        audience=AUDIENCES[aud],
                        days=d,
                        instant=days == "0",
                        levels=levels,
                        weight=int(weight),
                        result=result,
                        themes=[x for x in themes.split(",") if x],
                        materials=keys,
                        legal_basis=legal,
                        fee_standard=fee_standard.strip(),
                        fee_basis=fee_basis.strip(),
                        aliases="、".join(v for k, v in ALIASES.items() if k in full),
                        variant=variant,
                    )
                )
    for line in catalogue.POWERS.strip().splitlines():
        if not line.strip():
            continue
        kind, t, name, legal = (x.strip() for x in line.split("|"))
        item_type = TYPE_LETTERS[t]
        n = serial[(item_type, kind)] = serial.get((item_type, kind), 0) + 1
        specs.append(
            StandardSpec(
                basic_code=f"{ITEM_TYPE_CODES[item_type]}{kind_code(kind)}{n:04d}00",
                name=name,
                item_type=item_type,
                kind=kind,
                audience="both",
                days=90 if t == "P" else 30,
                instant=False,
                levels="123",
                weight=3 if t == "P" else 4,
                result={"P": "行政处罚决定书", "I": "检查记录", "E": "行政强制决定书", "A": "奖励决定"}[t],
                themes=[],
                materials=[],
                legal_basis=legal,
            )
        )
    return specs


# Generated data only: a result whose name reads like a certificate (许可证, 营业执照, 证书,
# 证明) is one, for the types that issue one. At run time approval reads ``result_kind``.
_CERTIFICATE_TYPES = {"licensing", "confirmation", "public_service", "other_power"}
_CERTIFICATE_NAME = ("证", "照", "证书", "证明")


def result_of(spec: StandardSpec) -> tuple[str, str]:
    """(result kind, certificate type) of a generated item: a 注销 sub-item revokes the
    certificate its siblings issue, never issues one; an inspection produces nothing."""
    looks_like_certificate = spec.result.endswith(_CERTIFICATE_NAME)
    if spec.variant == "注销":
        return (ResultKind.REVOCATION, spec.result) if looks_like_certificate else (ResultKind.DECISION, "")
    if spec.item_type == "inspection":
        return ResultKind.NONE, ""
    if looks_like_certificate and spec.item_type in _CERTIFICATE_TYPES:
        return ResultKind.CERTIFICATE, spec.result
    return ResultKind.DECISION, ""


def _material_rows(spec: StandardSpec, standard: StandardItem) -> list[StandardMaterial]:
    rows = []
    for sort, key in enumerate(spec.materials):
        name, form, copies, requirement, condition, source, cert, notes = MATERIALS[key]
        rows.append(
            StandardMaterial(
                standard=standard,
                name=name.replace("{item}", spec.name),
                form=form,
                copies=copies,
                requirement=requirement,
                condition=condition,
                source=source,
                certificate_type=cert,
                notes=notes,
                sort=sort,
            )
        )
    return rows


def _conditions(spec: StandardSpec) -> str:
    if spec.item_type in ("penalty", "inspection", "enforcement"):
        return "依职权实施，不涉及申请。"
    text = _CONDITIONS.get(spec.item_type, "")
    if spec.audience == "person" and spec.item_type in ("benefit", "public_service", "confirmation"):
        text = "申请人为本省户籍居民或持有本省居住证的人员。" + text
    return text


def load_themes() -> dict[str, Theme]:
    for audience, rows in (("person", PERSON_THEMES), ("company", COMPANY_THEMES)):
        for sort, (code, name, icon) in enumerate(rows):
            Theme.objects.update_or_create(
                code=code, defaults={"name": name, "audience": audience, "icon": icon, "sort": sort}
            )
    return {t.code: t for t in Theme.objects.all()}


def load_synonyms() -> int:
    for term, synonyms in SYNONYMS.items():
        Synonym.objects.update_or_create(term=term, defaults={"synonyms": synonyms})
    return len(SYNONYMS)


def load_standard_catalogue() -> tuple[
    list[StandardItem], dict[int, list[StandardMaterial]], dict[str, StandardSpec]
]:
    """Create what is missing of the built-in catalogue; return the items, their materials by
    item id, and the specs by basic code."""
    specs = catalogue_specs()
    themes = load_themes()
    existing = set(
        StandardItem.objects.filter(basic_code__in=[s.basic_code for s in specs]).values_list(
            "basic_code", flat=True
        )
    )
    new = [s for s in specs if s.basic_code not in existing]
    created = StandardItem.objects.bulk_create(
        [
            StandardItem(
                basic_code=s.basic_code,
                name=s.name,
                aliases=s.aliases,
                item_type=s.item_type,
                department_kind=s.kind,
                audience=s.audience,
                legal_basis=s.legal_basis,
                acceptance_conditions=_conditions(s),
                statutory_limit_days=None if s.instant else s.days,
                is_instant=s.instant,
                fee_required=bool(s.fee_standard),
                fee_basis=s.fee_basis,
                result_name=s.result,
                result_kind=result_of(s)[0],
                result_certificate_type=result_of(s)[1],
                levels=s.levels,
            )
            for s in new
        ]
    )
    if created:
        by_code = {
            i.basic_code: i for i in StandardItem.objects.filter(basic_code__in=[s.basic_code for s in new])
        }
        by_spec = {s.basic_code: s for s in new}
        StandardMaterial.objects.bulk_create(
            [m for code, item in by_code.items() for m in _material_rows(by_spec[code], item)]
        )
        through = StandardItem.themes.through
        through.objects.bulk_create(
            [
                through(standarditem_id=item.pk, theme_id=themes[t].pk)
                for code, item in by_code.items()
                for t in by_spec[code].themes
                if t in themes
            ]
        )
    standards = list(
        StandardItem.objects.filter(basic_code__in=[s.basic_code for s in specs]).order_by("basic_code")
    )
    _load_life_events(standards)
    materials: dict[int, list[StandardMaterial]] = {}
    for m in StandardMaterial.objects.filter(standard__in=standards).order_by("sort", "id"):
        materials.setdefault(m.standard_id, []).append(m)
    return standards, materials, {s.basic_code: s for s in specs}


def _load_life_events(standards: list[StandardItem]) -> None:
    by_name = {s.name: s for s in standards}
    for sort, (code, name, audience, description, members) in enumerate(LIFE_EVENTS):
        event, _ = LifeEvent.objects.update_or_create(
            code=code, defaults={"name": name, "audience": audience, "description": description, "sort": sort}
        )
        items = []
        for member in members:
            item = by_name.get(member) or next(
                (s for s in standards if s.name.startswith(member + "（")), None
            )
            if item is not None:
                items.append(item)
        event.standard_items.set(items)
