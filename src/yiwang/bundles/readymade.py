"""The ready-made bundles (一件事) of the demo and the province generator: what they are made of.

Pure data, no database: the items each bundle groups (by their standard item's name), the forms
of those items (JSON Schema with deliberately overlapping fields, so the combined form asks a
shared field once), the local materials a department adds (a shared material is uploaded once),
the questionnaire of the life events and the answers that decide which members apply.
``bundles.demo`` turns these into published items and published bundles for a region.

Where the built-in standard catalogue (``catalog.generator.catalogue``) lacks an item a bundle
needs (the safety, seismic, traffic and heritage assessments; the import declaration), it is
defined here in ``EXTRA_STANDARDS`` with its real legal basis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- material library additions (same tuple layout as catalog.generator.materials.MATERIALS) ---
ORIG, C, E = "original", "copy", "electronic"
REQ, COND = "required", "conditional"
APP, ECERT, BASE, GOV = "applicant", "e_certificate", "base_registry", "government"

EXTRA_MATERIALS: dict[str, tuple[str, str, int, str, str, str, str, str]] = {
    # investment projects: shared by every assessment of the project
    "project_filing": (
        "投资项目备案证明（或核准批复文件）",
        C,
        1,
        REQ,
        "",
        GOV,
        "",
        "通过投资项目在线审批监管平台共享获取",
    ),
    "site_plan": ("建设项目总平面布置图", ORIG, 1, REQ, "", APP, "", "标明用地红线、建筑布局和出入口"),
    "land_preview": ("建设项目用地预审与选址意见书", C, 1, REQ, "", GOV, "", "自然资源部门核发"),
    # the assessment reports themselves
    "energy_report": ("节能报告", ORIG, 1, REQ, "", APP, "", "年综合能源消费量1000吨标准煤以上的项目编制"),
    "safety_report": ("安全预评价报告", ORIG, 1, REQ, "", APP, "", "由具备资质的安全评价机构编制"),
    "seismic_report": (
        "地震安全性评价报告",
        ORIG,
        1,
        REQ,
        "",
        APP,
        "",
        "重大建设工程和可能发生严重次生灾害的建设工程",
    ),
    "heritage_report": (
        "文物影响评估报告",
        ORIG,
        1,
        REQ,
        "",
        APP,
        "",
        "涉及文物保护单位保护范围或建设控制地带的",
    ),
    "traffic_report": ("交通影响评价报告", ORIG, 1, REQ, "", APP, "", "含停车泊位和出入口组织方案"),
    # import declaration: the trade documents every authority reads
    "trade_contract": ("进口贸易合同", C, 1, REQ, "", APP, "", "须载明品名、数量、金额和贸易方式"),
    "invoice": ("商业发票", C, 1, REQ, "", APP, "", ""),
    "packing_list": ("装箱单", C, 1, REQ, "", APP, "", ""),
    "bill_of_lading": ("提（运）单", C, 1, REQ, "", APP, "", "海运提单或空运运单"),
    "origin_cert": ("原产地证明", C, 1, COND, "申请享受协定税率的", APP, "", ""),
    "quarantine_cert": ("输出国家或地区官方检疫证书", ORIG, 1, REQ, "", APP, "", "须与货物同行的正本"),
    "import_application": (
        "自动进口许可证申请表",
        ORIG,
        1,
        REQ,
        "",
        APP,
        "",
        "在商务部业务系统统一平台在线填报",
    ),
    "customs_record": ("海关进出口货物收发货人备案回执", C, 1, REQ, "", GOV, "", "通过海关信息共享核验"),
    # restaurant
    "floor_plan": ("餐饮服务场所平面布局图", ORIG, 1, REQ, "", APP, "", "标明加工制作区、就餐区和设备位置"),
}


# --- standard items the built-in catalogue lacks ---------------------------------------------------
@dataclass(frozen=True)
class StandardDef:
    serial: int  # within type and kind; 9001+ keeps clear of the built-in catalogue's serials
    name: str
    item_type: str  # catalog.models.ItemType value
    kind: str  # DepartmentKind value
    audience: str
    days: int  # statutory limit, working days
    levels: str
    result: str
    legal_basis: str
    materials: tuple[str, ...]  # keys of catalog.generator.materials.MATERIALS or EXTRA_MATERIALS


EXTRA_STANDARDS: tuple[StandardDef, ...] = (
    StandardDef(
        9001,
        "建设项目安全预评价报告审查",
        "other_power",
        "yjglj",
        "company",
        20,
        "123",
        "安全预评价审查意见",
        "《中华人民共和国安全生产法》第三十二条；《建设项目安全设施“三同时”监督管理办法》第七条",
        ("form_co", "project_filing", "safety_report", "site_plan"),
    ),
    StandardDef(
        9002,
        "建设工程地震安全性评价结果审定及抗震设防要求确定",
        "licensing",
        "zjj",
        "company",
        15,
        "123",
        "抗震设防要求确定意见",
        "《中华人民共和国防震减灾法》第三十五条；《地震安全性评价管理条例》第十二条",
        ("form_co", "project_filing", "seismic_report", "site_plan"),
    ),
    StandardDef(
        9003,
        "建设项目文物影响评估审查",
        "other_power",
        "wlj",
        "company",
        20,
        "123",
        "文物影响评估审查意见",
        "《中华人民共和国文物保护法》第十七条、第十八条",
        ("form_co", "project_filing", "heritage_report", "land_preview"),
    ),
    StandardDef(
        9004,
        "建设项目交通影响评价审查",
        "other_power",
        "jtj",
        "company",
        15,
        "123",
        "交通影响评价审查意见",
        "《中华人民共和国道路交通安全法》第二十八条；《建设项目交通影响评价技术标准》（CJJ/T 141）",
        ("form_co", "project_filing", "traffic_report", "site_plan"),
    ),
    StandardDef(
        9001,
        "进口货物申报",
        "other_power",
        "hg",
        "company",
        5,
        "2",
        "进口货物报关单（放行）",
        "《中华人民共和国海关法》第二十四条、第二十五条；《中华人民共和国海关进出口货物申报管理规定》",
        ("customs_record", "trade_contract", "invoice", "packing_list", "bill_of_lading", "origin_cert"),
    ),
    StandardDef(
        9002,
        "进境动植物及其产品检疫审批",
        "licensing",
        "hg",
        "company",
        20,
        "2",
        "中华人民共和国进境动植物检疫许可证",
        "《中华人民共和国进出境动植物检疫法》第十条；《中华人民共和国进出境动植物检疫法实施条例》第九条",
        ("form_co", "trade_contract", "invoice", "quarantine_cert"),
    ),
    StandardDef(
        9001,
        "自动进口许可证签发",
        "licensing",
        "swj",
        "company",
        10,
        "12",
        "中华人民共和国自动进口许可证",
        "《中华人民共和国货物进出口管理条例》第二十一条；《货物自动进口许可管理办法》第九条",
        ("import_application", "trade_contract", "license"),
    ),
)


# --- forms -----------------------------------------------------------------------------------------
MOBILE = {"type": "string", "title": "联系电话", "pattern": "^1[3-9][0-9]{9}$", "description": "11位手机号码"}
ID_NUMBER = {
    "type": "string",
    "title": "身份证号",
    "pattern": "^[0-9]{17}[0-9Xx]$",
    "description": "18位居民身份证号码",
}
CREDIT_CODE = {
    "type": "string",
    "title": "统一社会信用代码",
    "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    "description": "18位统一社会信用代码",
}


def form(properties: dict[str, dict[str, Any]], required: list[str], **layout: Any) -> dict[str, Any]:
    """A JSON Schema form (``cases.formschema``'s subset) and its layout hint."""
    return {
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
        "layout": {"order": list(properties), **layout},
    }


def text(title: str, *, min_length: int = 0, max_length: int = 100, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string", "title": title, "maxLength": max_length}
    if min_length:
        spec["minLength"] = min_length
    spec.update(extra)
    return spec


def number(title: str, *, minimum: float = 0, integer: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "integer" if integer else "number", "title": title, "minimum": minimum, **extra}


def choice(title: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "title": title, "enum": values}


def date(title: str) -> dict[str, Any]:
    return {"type": "string", "title": title, "format": "date"}


PERSON_PREFILL = {"prefill": {"operator_name": "person.name", "phone": "person.phone"}}

# The project fields every assessment of 多评合一 asks: one project, entered once.
PROJECT = {
    "project_name": text("项目名称", min_length=4, max_length=100),
    "project_code": text(
        "投资项目统一代码",
        max_length=24,
        pattern="^[0-9]{4}-[0-9]{6}-[0-9]{2}-[0-9]{2}-[0-9]{6}$",
        description="投资项目在线审批监管平台赋码，如 2026-350102-47-01-123456",
    ),
    "builder": text("建设单位", min_length=4, max_length=100),
    "credit_code": CREDIT_CODE,
    "contact": text("项目联系人", min_length=2, max_length=20),
    "phone": MOBILE,
    "site_address": text("建设地点", min_length=4, max_length=200),
    "land_area": number("用地面积（平方米）", minimum=1),
    "floor_area": number("总建筑面积（平方米）", minimum=0),
    "investment": number("总投资（万元）", minimum=1),
}
PROJECT_REQUIRED = [
    "project_name",
    "project_code",
    "builder",
    "credit_code",
    "contact",
    "phone",
    "site_address",
]


def shared_form(
    base: dict[str, dict[str, Any]], base_required: list[str], **layout: Any
) -> Callable[[dict[str, dict[str, Any]], list[str]], dict[str, Any]]:
    """A builder of member forms that share ``base`` (the fields every member of a bundle asks,
    entered once in the combined form): each member adds its own fields and required keys."""

    def build(extra: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
        return form({**base, **extra}, base_required + required, **layout)

    return build


project_form = shared_form(PROJECT, PROJECT_REQUIRED, widgets={})


TRADE = {
    "importer": text("进口企业名称", min_length=4, max_length=100),
    "credit_code": CREDIT_CODE,
    "customs_code": text(
        "海关编码（收发货人）", max_length=10, pattern="^[0-9A-Z]{10}$", description="10位海关注册编码"
    ),
    "contact": text("联系人", min_length=2, max_length=20),
    "phone": MOBILE,
    "goods_name": text("商品名称", min_length=2, max_length=100),
    "hs_code": text("商品编码（HS）", max_length=10, pattern="^[0-9]{10}$", description="10位商品编码"),
    "origin_country": text("原产国（地区）", min_length=2, max_length=40),
    "quantity": number("数量", minimum=0.001),
    "unit": choice("计量单位", ["千克", "吨", "件", "头", "只", "立方米"]),
    "contract_no": text("合同协议号", min_length=4, max_length=40),
}
TRADE_REQUIRED = [
    "importer",
    "credit_code",
    "contact",
    "phone",
    "goods_name",
    "hs_code",
    "origin_country",
    "quantity",
    "unit",
]
trade_form = shared_form(TRADE, TRADE_REQUIRED)


# --- bundles -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionDef:
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]  # (value, label)
    help: str = ""


@dataclass(frozen=True)
class MemberDef:
    standard: str  # the standard item's name (built-in or EXTRA_STANDARDS)
    form: dict[str, Any]  # {"schema": ..., "layout": ...}: the member item's own form
    condition: str = ""  # workflow.expressions over the questionnaire answers; "" = always
    advisory: bool = False
    local_materials: tuple[str, ...] = ()  # EXTRA_MATERIALS keys the department adds to the item
    # materials the bundle supplies itself: made conditional on the item, with this condition
    waived: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BundleDef:
    key: str  # short, stable: part of the bundle code
    name: str
    kind: str  # life_event | combined_assessment | single_window
    level: int  # 2 = in each city, 3 = in each city's first district
    lead_kind: str
    limit_days: int
    outcome_rule: str  # all_must_approve | advisory_allowed
    description: str
    members: tuple[MemberDef, ...]
    questions: tuple[QuestionDef, ...] = field(default_factory=tuple)
    one_step: bool = False  # Bundle.one_step_branches: each department gives its opinion in one step
    life_event: str = ""  # the catalogue's life event (catalog.LifeEvent code) the bundle does online


COMBINED_ASSESSMENT = BundleDef(
    key="dphy",
    name="投资项目多评合一",
    kind="combined_assessment",
    level=2,
    lead_kind="fgw",
    limit_days=20,
    outcome_rule="advisory_allowed",
    one_step=True,  # 多评合一: each assessing department reviews and gives its opinion at once
    description=(
        "企业投资项目开工前的节能审查、环境影响评价、安全评价、水土保持方案、地震安全性评价、"
        "文物影响评估和交通影响评价，统一受理、同步评估、统一审查、统一审批：一次填报项目信息，"
        "共用材料只交一次，七个部门并联办理。"
    ),
    members=(
        MemberDef(
            "固定资产投资项目节能审查",
            project_form(
                {
                    "annual_energy": number("年综合能源消费量（吨标准煤）", minimum=0),
                    "energy_types": text("主要能源品种", max_length=100, description="如：电力、天然气"),
                },
                ["annual_energy"],
            ),
            local_materials=("project_filing", "energy_report"),
        ),
        MemberDef(
            "建设项目环境影响报告表审批",
            project_form(
                {
                    "industry_code": text("国民经济行业类别", max_length=40),
                    "pollutants": text("主要污染物及排放去向", max_length=500),
                },
                ["pollutants"],
                # same key and title as the seismic and safety forms' project fields
            ),
            local_materials=("project_filing", "site_plan"),
        ),
        MemberDef(
            "建设项目安全预评价报告审查",
            project_form(
                {"hazardous_chemicals": {"type": "boolean", "title": "是否涉及危险化学品"}},
                [],
            ),
            advisory=True,
        ),
        MemberDef(
            "生产建设项目水土保持方案审批",
            project_form({"disturbed_area": number("扰动地表面积（公顷）", minimum=0)}, ["disturbed_area"]),
            local_materials=("project_filing", "land_preview"),
        ),
        MemberDef(
            "建设工程地震安全性评价结果审定及抗震设防要求确定",
            project_form(
                {
                    "building_height": number("建筑高度（米）", minimum=0),
                    "fortification": choice("抗震设防烈度", ["6度", "7度", "8度", "9度"]),
                },
                ["fortification"],
            ),
        ),
        MemberDef(
            "建设项目文物影响评估审查",
            project_form({"heritage_site": text("涉及的文物保护单位", max_length=100)}, []),
            advisory=True,
        ),
        MemberDef(
            "建设项目交通影响评价审查",
            project_form(
                {
                    "parking_spaces": number("机动车停车泊位（个）", integer=True),
                    "peak_trips": number("高峰小时交通生成量（标准车次）", integer=True),
                },
                ["parking_spaces"],
            ),
        ),
    ),
)

IMPORT_DECLARATION = BundleDef(
    key="dycl",
    name="进口货物单一窗口申报",
    kind="single_window",
    level=2,
    lead_kind="hg",
    limit_days=20,
    outcome_rule="all_must_approve",
    description=(
        "国际贸易“单一窗口”：进口企业一次提交货物、合同和单证，海关通关、进境动植物检疫审批和"
        "商务自动进口许可共享同一份数据和材料并联办理，结果一次统一反馈。"
    ),
    members=(
        MemberDef(
            "进口货物申报",
            trade_form(
                {
                    "trade_mode": choice("贸易方式", ["一般贸易", "进料加工", "来料加工", "保税仓库货物"]),
                    "port": choice("进境口岸", ["福州长乐国际机场", "马尾港", "江阴港", "厦门港", "泉州港"]),
                    "declared_value": number("申报总价（美元）", minimum=0.01),
                    "transport": choice("运输方式", ["水路运输", "航空运输", "公路运输", "铁路运输"]),
                },
                ["trade_mode", "port", "declared_value", "transport"],
            ),
        ),
        MemberDef(
            "进境动植物及其产品检疫审批",
            trade_form(
                {
                    "port": choice("进境口岸", ["福州长乐国际机场", "马尾港", "江阴港", "厦门港", "泉州港"]),
                    "use": choice("用途", ["加工", "食用", "种用", "观赏", "科研"]),
                    "exporter": text("境外发货人", min_length=2, max_length=100),
                },
                ["port", "use", "exporter"],
            ),
        ),
        MemberDef(
            "自动进口许可证签发",
            trade_form(
                {
                    "declared_value": number("申报总价（美元）", minimum=0.01),
                    "trade_mode": choice("贸易方式", ["一般贸易", "进料加工", "来料加工", "保税仓库货物"]),
                },
                ["declared_value", "trade_mode"],
            ),
        ),
    ),
)

RESTAURANT = BundleDef(
    key="kcg",
    name="我要开餐馆",
    kind="life_event",
    life_event="le02",  # 开办餐饮店
    level=3,
    lead_kind="scjgj",
    limit_days=15,
    outcome_rule="all_must_approve",
    description=(
        "开办一家餐馆：营业执照、食品经营许可证和户外招牌设置一次申请、一次提交，"
        "市场监管部门统一受理，住建（城管）部门并联审批，结果一次送达。"
    ),
    questions=(
        QuestionDef(
            "entity_type",
            "您以什么身份开餐馆？",
            (("individual", "个体工商户"), ("company", "有限责任公司")),
            "个体工商户由经营者个人承担责任；有限责任公司须有公司章程和股东。",
        ),
        QuestionDef(
            "signage",
            "是否设置户外招牌？",
            (("yes", "设置户外招牌"), ("no", "不设置户外招牌")),
            "在建筑物外墙设置店铺招牌的，须办理户外招牌设置审批。",
        ),
    ),
    members=(
        MemberDef(
            "个体工商户设立登记",
            form(
                {
                    "operator_name": text("经营者姓名", min_length=2, max_length=30),
                    "id_number": ID_NUMBER,
                    "phone": MOBILE,
                    "shop_name": text("店铺名称（字号）", min_length=2, max_length=50),
                    "address": text("经营场所", min_length=4, max_length=200),
                    "business_scope": text("经营范围", min_length=2, max_length=300),
                    "capital": number("资金数额（万元）", minimum=0),
                    "staff_count": number("从业人数", integer=True, minimum=1),
                },
                ["operator_name", "id_number", "phone", "shop_name", "address", "business_scope"],
                **PERSON_PREFILL,
            ),
            condition='entity_type == "individual"',
        ),
        MemberDef(
            "有限责任公司设立登记",
            form(
                {
                    "shop_name": text("企业名称", min_length=4, max_length=50),
                    "operator_name": text("法定代表人", min_length=2, max_length=30),
                    "id_number": ID_NUMBER,
                    "phone": MOBILE,
                    "address": text("住所（经营场所）", min_length=4, max_length=200),
                    "business_scope": text("经营范围", min_length=2, max_length=300),
                    "registered_capital": number("注册资本（万元）", minimum=0.01),
                },
                [
                    "shop_name",
                    "operator_name",
                    "id_number",
                    "phone",
                    "address",
                    "business_scope",
                    "registered_capital",
                ],
                **PERSON_PREFILL,
            ),
            condition='entity_type == "company"',
        ),
        MemberDef(
            "食品经营许可（新办）",
            form(
                {
                    "shop_name": text("经营者名称", min_length=2, max_length=50),
                    "operator_name": text("法定代表人（负责人）", min_length=2, max_length=30),
                    "id_number": ID_NUMBER,
                    "phone": MOBILE,
                    "address": text("经营场所", min_length=4, max_length=200),
                    "business_form": choice(
                        "主体业态",
                        [
                            "餐饮服务经营者（小型餐馆）",
                            "餐饮服务经营者（中型餐馆）",
                            "餐饮服务经营者（大型餐馆）",
                        ],
                    ),
                    "food_items": choice(
                        "经营项目",
                        ["热食类食品制售", "热食类和冷食类食品制售", "热食类、冷食类和生食类食品制售"],
                    ),
                    "area": number("经营场所面积（平方米）", minimum=1),
                    "food_safety_manager": text("食品安全管理人员", min_length=2, max_length=30),
                },
                [
                    "shop_name",
                    "operator_name",
                    "phone",
                    "address",
                    "business_form",
                    "food_items",
                    "area",
                    "food_safety_manager",
                ],
                **PERSON_PREFILL,
            ),
            local_materials=("floor_plan",),
            waived=(("营业执照", "已取得营业执照的；与设立登记一并申请的，由登记机关共享，免于提交"),),
        ),
        MemberDef(
            "城市户外广告和招牌设施设置审批",
            form(
                {
                    "shop_name": text("设置单位（店铺名称）", min_length=2, max_length=50),
                    "phone": MOBILE,
                    "address": text("设置地点", min_length=4, max_length=200),
                    "sign_text": text("招牌文字内容", min_length=1, max_length=50),
                    "sign_size": text(
                        "招牌规格（长×高，米）",
                        max_length=30,
                        pattern="^[0-9.]+[×xX*][0-9.]+$",
                        description="如 6×1.2",
                    ),
                    "sign_lit": {"type": "boolean", "title": "是否设置灯光照明"},
                },
                ["shop_name", "phone", "address", "sign_text", "sign_size"],
            ),
            condition='signage == "yes"',
            waived=(("营业执照", "已取得营业执照的；与设立登记一并申请的，由登记机关共享，免于提交"),),
        ),
    ),
)

NEWBORN = BundleDef(
    key="csl",
    name="孩子出生了",
    kind="life_event",
    life_event="le03",  # 新生儿出生
    level=3,
    lead_kind="wjw",
    limit_days=10,
    outcome_rule="all_must_approve",
    description=(
        "新生儿出生“一件事”：出生医学证明、户口登记和城乡居民医保参保一次申请，"
        "父母信息和证件只填一次、只交一次，卫生健康、公安和医保部门并联办理。"
    ),
    questions=(
        QuestionDef(
            "has_birth_cert",
            "助产机构是否已签发《出生医学证明》？",
            (("no", "尚未签发，一并申请"), ("yes", "已签发")),
            "已取得出生医学证明的，无需再申请签发，上传证明即可。",
        ),
        QuestionDef(
            "insure",
            "是否为孩子办理城乡居民医保参保？",
            (("yes", "办理"), ("no", "暂不办理")),
            "新生儿出生后 90 日内参保缴费的，自出生之日起享受医保待遇。",
        ),
    ),
    members=(
        MemberDef(
            "出生医学证明签发（首次签发）",
            form(
                {
                    "baby_name": text("新生儿姓名", min_length=2, max_length=20),
                    "baby_gender": choice("新生儿性别", ["男", "女"]),
                    "birth_date": date("出生日期"),
                    "birth_place": text("出生地点（助产机构）", min_length=4, max_length=100),
                    "birth_weight": number("出生体重（克）", integer=True, minimum=300, maximum=8000),
                    "mother_name": text("母亲姓名", min_length=2, max_length=20),
                    "mother_id_number": {**ID_NUMBER, "title": "母亲身份证号"},
                    "father_name": text("父亲姓名", min_length=2, max_length=20),
                    "father_id_number": {**ID_NUMBER, "title": "父亲身份证号"},
                    "phone": MOBILE,
                },
                [
                    "baby_name",
                    "baby_gender",
                    "birth_date",
                    "birth_place",
                    "mother_name",
                    "mother_id_number",
                    "phone",
                ],
                prefill={"phone": "person.phone"},
            ),
            condition='has_birth_cert == "no"',
        ),
        MemberDef(
            "出生登记",
            form(
                {
                    "baby_name": text("新生儿姓名", min_length=2, max_length=20),
                    "baby_gender": choice("新生儿性别", ["男", "女"]),
                    "birth_date": date("出生日期"),
                    "mother_name": text("母亲姓名", min_length=2, max_length=20),
                    "mother_id_number": {**ID_NUMBER, "title": "母亲身份证号"},
                    "father_name": text("父亲姓名", min_length=2, max_length=20),
                    "father_id_number": {**ID_NUMBER, "title": "父亲身份证号"},
                    "hukou_address": text("申报落户地址", min_length=4, max_length=200),
                    "declarer_relation": choice("申报人与新生儿关系", ["父亲", "母亲", "其他监护人"]),
                    "phone": MOBILE,
                },
                [
                    "baby_name",
                    "baby_gender",
                    "birth_date",
                    "mother_name",
                    "mother_id_number",
                    "hukou_address",
                    "declarer_relation",
                    "phone",
                ],
                prefill={"phone": "person.phone"},
            ),
        ),
        MemberDef(
            "城乡居民基本医疗保险参保登记",
            form(
                {
                    "baby_name": text("新生儿姓名", min_length=2, max_length=20),
                    "birth_date": date("出生日期"),
                    "hukou_address": text("申报落户地址", min_length=4, max_length=200),
                    # another key, the same title and type: the combined form asks it once
                    "guardian_phone": {**MOBILE},
                    "payment": choice("缴费方式", ["税务部门线上缴费", "银行代扣"]),
                },
                ["baby_name", "birth_date", "guardian_phone", "payment"],
                prefill={"guardian_phone": "person.phone"},
            ),
            condition='insure == "yes"',
        ),
    ),
)

BUNDLES: tuple[BundleDef, ...] = (COMBINED_ASSESSMENT, IMPORT_DECLARATION, RESTAURANT, NEWBORN)


def by_key(key: str) -> BundleDef:
    return next(b for b in BUNDLES if b.key == key)
