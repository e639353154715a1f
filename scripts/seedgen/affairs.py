"""Deterministic seed generator for the affairs module (Luohu district service catalogue).

Run from the repository root::

    python3 scripts/seedgen/affairs.py

It (re)writes ``seeds/affairs/*.json``: departments, lifecycle groups, themes, e-license types,
the 1,202 service items, the "1+4+10+83" service network, the 146-question FAQ library and
the search synonyms.  Output depends only on the tables in the sibling ``affairs_*`` modules
and the fixed seeds below, never on time, set ordering or hash randomisation.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import affairs_catalog_data as cat  # noqa: E402
import affairs_faq_data as faqdata  # noqa: E402
import affairs_item_specs as specs  # noqa: E402
import affairs_lexicon as lexicon  # noqa: E402
import affairs_locations_data as locdata  # noqa: E402
import affairs_volumes as volumes  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
from modules.wallet.license_types import LICENSE_TYPES  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(REPO, "seeds", "affairs")
SEED = 20261121
DISTRICT = "440303"
TOTAL_ITEMS = 1202
FAQ_TOTAL = 146

# Published Luohu figures the catalogue reproduces (see shared/DOMAIN.md).
TARGET_NON_ONLINE = 48  # 96% online
TARGET_VISIT_ONE = 331  # 72.5% zero visits, 100% at most one visit
TARGET_INSTANT = 394  # 32.8% 即来即办
TARGET_INSTANT_APPROVAL = 60  # about 5% 秒批
TARGET_DISTRICT_WIDE = 202
TARGET_NO_MEETING = 205
TARGET_TOLERATES = 211
TARGET_NO_PHOTOCOPY = 101
TARGET_SELF_SERVICE = 130
BANK_POOL = 340
TERMINAL_COUNT = 30

AUDIENCE_CODES = {
    "P": "natural_person",
    "E": "enterprise_legal_person",
    "I": "public_institution_legal_person",
    "S": "social_organization_legal_person",
    "U": "unincorporated_enterprise",
    "A": "administrative_organ",
    "O": "other_organization",
}
AUDIENCE_ORDER = list(AUDIENCE_CODES.values())
AUDIENCE_WORDS = {
    "natural_person": "自然人",
    "enterprise_legal_person": "企业",
    "public_institution_legal_person": "事业单位",
    "social_organization_legal_person": "社会组织",
    "unincorporated_enterprise": "个体工商户、个人独资企业和合伙企业",
    "administrative_organ": "行政机关",
    "other_organization": "其他组织",
}

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

STANDARD_HOURS = "周一至周五 上午9:00-12:00，下午14:00-18:00（法定节假日除外）"
HALL_HOURS = (
    "周一至周五 上午9:00-12:00，下午14:00-18:00；周六上午9:00-12:00延时服务（法定节假日除外）"
)
HALL_WEEKDAYS = [
    {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "12:00"},
    {"days": [1, 2, 3, 4, 5], "open": "14:00", "close": "18:00"},
]

NEW_VARIANTS = {
    "新办",
    "首次申请",
    "首次注册",
    "核发",
    "签发",
    "首次签发",
    "首次取证",
    "新申请",
    "申领",
    "办理",
}
CLOSING_WORDS = ("注销", "终止")
PAPERWORK_VARIANTS = ("注销", "补证", "补发", "补办", "补领", "迁移", "停用", "终止")
APPROVAL_SUFFIXES = (
    "决定书",
    "批复",
    "批准书",
    "批准文件",
    "意见书",
    "裁决书",
    "决定",
    "通知书",
    "核准文件",
    "审批表",
    "审核意见",
    "批复文件",
    "审批决定",
)

SUSPENDED_ITEMS = {
    "医师资格考试报名审核",
    "会计专业技术资格考试报名审核",
    "国家统一法律职业资格考试报名现场审核",
    "创新创业大赛报名",
    "产业发展专项资金（消费促进）申请",
    "老字号认定推荐",
    "创业孵化基地运营补贴申领",
    "全民健身赛事活动报名",
}
CANCELLED_ITEMS = {
    "病残儿医学鉴定",
    "科技创新专项资金（科技金融贴息）申请",
    "产业发展专项资金（工业稳增长）申请",
    "企业改制上市扶持资金申请",
    "境外展会参展补贴申请",
}

SHORT_NAMES = {
    "居民身份证首次申领": "办身份证",
    "居民身份证补领": "补办身份证",
    "出生登记": "新生儿上户口",
    "婚姻登记（结婚登记）": "结婚领证",
    "个体工商户设立登记": "个体户开业",
    "有限责任公司设立登记": "开公司",
    "失业保险金申领": "领失业金",
    "企业职工基本养老金申领": "领养老金",
    "普通护照签发": "办护照",
    "往来港澳通行证签发": "办港澳通行证",
    "社会保障卡申领": "办社保卡",
    "居住证申领": "办居住证",
    "居住证签注": "居住证续签",
    "机动车驾驶证期满换证": "驾照到期换证",
    "个人所得税综合所得汇算清缴": "个税年度汇算",
    "最低生活保障对象认定": "申请低保",
    "高龄老人津贴给付": "领高龄津贴",
    "国有建设用地使用权及房屋所有权转移登记（存量房买卖）": "二手房过户",
    "国有建设用地使用权及房屋所有权转移登记（商品房买卖）": "新房办证",
    "抵押权注销登记": "房贷解押",
    "残疾人证办理（新办）": "办残疾证",
    "义务教育阶段学位申请（小学一年级）": "小一学位申请",
    "食品经营许可（新办）": "办食品经营许可证",
    "建设工程施工许可证核发": "办施工许可证",
    "无犯罪记录证明出具": "开无犯罪证明",
    "税收完税证明开具": "开完税证明",
    "异地就医备案（临时外出就医人员）": "临时外出就医备案",
    "育儿补贴申领": "领育儿补贴",
    "公共租赁住房轮候申请": "申请公租房",
    "住房公积金租房提取": "租房提公积金",
    "开办企业一件事": "开办企业",
    "新生儿出生一件事": "出生一件事",
    "个人所得税专项附加扣除信息报送": "个税专项扣除",
    "政务服务预约取号": "办事预约取号",
    "居住登记": "来深居住登记",
    "往来港澳签注（个人旅游）": "港澳自由行签注",
    "社会保险个人权益记录查询打印": "查社保缴费记录",
    "12345政务服务便民热线诉求受理": "12345热线",
    "交通违法记分查询": "查驾照扣分",
    "交通违法处理（电子监控记录）": "处理违章",
    "企业年度报告公示": "企业年报",
    "个体工商户年度报告": "个体户年报",
    "个人参保证明打印": "打印社保证明",
    "出入境证件办理预约": "出入境办证预约",
    "机动车检验合格标志核发": "车辆年检领标",
    "职工参保登记": "员工社保增员",
    "职工停保（减员）": "员工社保减员",
    "医保电子凭证激活": "激活医保码",
    "从业人员预防性健康检查": "办健康证",
    "中小学课后延时服务报名": "课后托管报名",
    "发票领用": "领发票",
    "医保个人账户余额查询": "查医保余额",
    "居民身份证换领": "身份证到期换证",
    "房屋租赁登记备案（新办）": "租房合同备案",
    "居民身份证办理进度查询": "查身份证进度",
    "个人所得税纳税记录开具": "开个税证明",
    "重特大疾病补充医疗保险参保": "惠民保参保",
    "消费投诉受理": "投诉商家",
    "领取养老金人员待遇资格认证": "养老金资格认证",
    "住房公积金个人账户设立": "公积金开户",
    "社会保障卡启用": "社保卡激活",
    "住房公积金缴存证明打印": "打印公积金证明",
    "家庭医生签约服务": "签约家庭医生",
    "公共体育场馆预约": "体育场馆订场",
    "在园儿童健康成长补贴申领": "幼儿园补贴",
    "轻微道路交通事故快处快赔": "小事故快处快赔",
    "不动产登记资料查询": "查房产信息",
    "学位申请结果查询": "查学位录取结果",
    "65岁及以上老年人免费健康体检": "老人免费体检",
    "企业名称自主申报": "公司起名核名",
    "社会保障卡补领换领": "补办社保卡",
    "住房公积金购房提取": "买房提公积金",
    "户籍证明出具": "开户口证明",
    "城乡居民医疗保险费缴纳": "交居民医保",
    "网上祭扫服务": "网上扫墓",
    "企业职工基本养老保险关系转移接续": "社保转移",
    "医疗保险参保凭证打印": "打印医保证明",
    "发票代开（增值税普通发票）": "个人代开发票",
    "个人住房情况查询": "开无房证明",
    "户口迁移（人才引进）": "人才入户",
    "契税申报": "买房交契税",
    "居民身份证跨省异地受理": "异地办身份证",
    "老年人公交免费乘车卡办理": "办长者卡",
    "城乡居民基本医疗保险参保登记": "居民医保参保",
    "生育津贴申领": "领生育津贴",
    "公共法律服务咨询": "免费法律咨询",
    "消费者权益争议调解": "消费纠纷调解",
    "出生医学证明（首次签发）": "办出生证",
    "机动车转移登记": "车辆过户",
    "大件垃圾预约回收": "旧家具回收",
    "住房公积金离职提取": "离职提公积金",
    "住房公积金异地转移接续": "公积金转移",
    "医疗费用手工（零星）报销": "垫付医药费报销",
    "个人社会保险信息变更": "改社保信息",
    "人才引进（应届毕业生）": "应届生落户",
    "职工医保个人账户家庭共济绑定": "医保家庭共济",
    "婚姻登记预约": "结婚登记预约",
    "孕产妇保健手册建册": "怀孕建档",
    "老年人优待证办理": "办老人优待证",
    "商品房购房资格审核": "查购房资格",
    "养犬登记证年检": "狗证年审",
    "高校毕业生报到接收": "毕业生报到",
    "居民身份证挂失申报": "身份证挂失",
    "个人出售住房税费申报": "卖房交税",
    "车辆购置税申报": "买车交购置税",
    "职业介绍": "找工作",
    "劳动保障监察举报投诉受理": "投诉欠薪",
    "社会保障卡挂失和解挂": "社保卡挂失",
    "往来台湾通行证签发": "办台湾通行证",
    "户口迁移（毕业生接收）": "毕业生入户",
    "退休审批（正常退休）": "办退休",
    "新生儿参加城乡居民基本医疗保险": "给宝宝办医保",
    "灵活就业人员基本医疗保险参保登记": "个人交医保",
    "劳动人事争议仲裁": "劳动仲裁",
    "工伤认定": "认定工伤",
    "欠薪保障垫付申请": "欠薪垫付",
    "参保人员死亡后丧葬补助金和抚恤金申领": "领丧葬费抚恤金",
    "死亡注销户口": "去世注销户口",
    "居民死亡医学证明（推断）书签发": "开死亡证明",
    "法律援助申请": "免费律师援助",
    "人民调解申请": "纠纷调解",
    "义务教育阶段转学申请": "中小学转学",
    "食品安全投诉举报受理": "投诉食品安全",
    "环境污染投诉受理": "投诉噪音污染",
    "市容环境卫生投诉受理": "投诉乱摆卖",
    "违法建设举报受理": "举报违建",
    "个体工商户注销登记": "个体户注销",
    "企业注销一件事": "公司注销",
    "市场主体歇业备案": "公司歇业",
    "交通出行投诉受理": "投诉出租车公交",
    "出租车乘客遗失物品查找": "出租车失物查找",
    "城市照明设施报修": "路灯报修",
    "二次供水设施报修": "二次供水报修",
    "电梯安全投诉举报受理": "电梯故障投诉",
    "医疗服务投诉受理": "投诉医院",
    "教育服务投诉受理": "投诉学校",
    "物业管理纠纷调解": "物业纠纷调解",
    "产品质量投诉举报受理": "投诉产品质量",
    "政务服务投诉处理": "投诉办事窗口",
    "最低生活保障金给付": "领低保金",
}

VISIT_REASONS = {
    "01": [
        "需到窗口核验申请人身份和申请材料原件",
        "需现场签署告知承诺书并领取纸质许可证件",
        "需配合现场核查并签收许可文书",
    ],
    "07": ["需本人到场核验身份并签名确认", "需现场核验证明材料原件", "需本人到场领取证件并签收"],
    "05": ["需本人到场核验身份并签署承诺书", "需现场核验相关证明材料原件"],
    "09": ["需当事人到场参加调查或庭审"],
    "default": ["需现场核验原件", "需到窗口提交纸质材料原件", "需本人到场签署确认文书"],
}
OFFLINE_REASONS = ["需到窗口提交纸质申请材料并接受询问", "需当事人到场提交证据材料并接受调查"]

CN_DIGITS = "零一二三四五六七八九"


# --------------------------------------------------------------------------------------------
# small helpers


def cn_number(n: int) -> str:
    """Chinese numeral for article numbers 1..9999 (第三十五条, 第一千零四十九条)."""
    if n < 20:
        return ("十" + (CN_DIGITS[n % 10] if n % 10 else "")) if n >= 10 else CN_DIGITS[n]
    text, zero = "", False
    for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit = n // size % 10
        if digit:
            if zero and text:
                text += "零"
            text += CN_DIGITS[digit] + unit
            zero = False
        elif text:
            zero = True
    return text


def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    total = 0
    for char, weight in zip(body, ORG_WEIGHTS, strict=True):
        value = int(char) if char.isdigit() else ord(char) - 55
        total += value * weight
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_check(body17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters of a USCC."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def make_uscc(prefix8: str, org_body: str) -> str:
    body17 = prefix8 + org_body + org_code_check(org_body)
    return body17 + uscc_check(body17)


def phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"0755-2{rng.choice(['566', '591', '210', '213', '218', '544', '245', '560'])}"
        number += f"{rng.randint(0, 9999):04d}"
        if number not in used:
            used.add(number)
            return number


def pick(
    rng: random.Random,
    pool: Iterable[dict[str, Any]],
    count: int,
    priority: Callable[[dict[str, Any]], int] | None = None,
) -> list[dict[str, Any]]:
    """Deterministically choose ``count`` items, lower priority value first, random within."""
    ordered = sorted(pool, key=lambda it: it["_seq"])
    keyed = [((priority(it) if priority else 0), rng.random(), it["_seq"], it) for it in ordered]
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed[:count]]


def write_json(name: str, objects: list[dict[str, Any]]) -> None:
    path = os.path.join(OUT_DIR, name)
    body = ",\n".join(json.dumps(o, ensure_ascii=False, sort_keys=True) for o in objects)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[\n" + body + "\n]\n")


# --------------------------------------------------------------------------------------------
# reference tables


def build_departments(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    used: set[str] = set()
    departments, by_key = [], {}
    for order, (key, name, short, kind, prefix, org, address, duty) in enumerate(
        cat.DEPARTMENTS, 1
    ):
        dept = {
            "code": make_uscc(prefix, org),
            "name": name,
            "short_name": short,
            "kind": kind,
            "phone": phone(rng, used),
            "complaint_phone": phone(rng, used),
            "address": address,
            "sort_order": order,
            "description": duty,
        }
        departments.append(dept)
        by_key[key] = dept
    departments.sort(key=lambda d: d["code"])
    return departments, by_key


def build_reference() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    groups = [
        {"code": code, "name": name, "audience": audience, "sort_order": i}
        for i, (code, name, audience) in enumerate(cat.LIFECYCLE_GROUPS, 1)
    ]
    group_audience = {g["code"]: g["audience"] for g in groups}
    themes = [
        {
            "code": code,
            "name": name,
            "audience": group_audience[group],
            "lifecycle_group": group,
            "description": description,
            "sort_order": i,
        }
        for i, (code, name, group, description) in enumerate(cat.THEMES, 1)
    ]
    # The wallet owns the e-license types; the catalogue keeps what it shows of each.
    licenses = [
        {"code": spec.code, "name": spec.name, "issuer_kind": spec.issuer_kind}
        for spec in LICENSE_TYPES
    ]
    groups.sort(key=lambda g: g["code"])
    themes.sort(key=lambda t: t["code"])
    licenses.sort(key=lambda lt: lt["code"])
    return groups, themes, licenses


# --------------------------------------------------------------------------------------------
# catalogue parsing

MATERIAL_RE = re.compile(
    r"^(?P<flags>[?~]*)(?P<name>[^@\[]+?)(?:@(?P<lic>[A-Z_]+))?"
    r"(?:\[(?P<vars>[^\]]+)\])?$"
)
RESULT_RE = re.compile(r"^(?P<name>[^:\[]+?)(?::(?P<lic>[A-Z_]+))?(?:\[(?P<vars>[^\]]+)\])?$")
LAW_RE = re.compile(r"^(?P<abbr>\D+?)(?P<article>\d+)?$")
KEYWORD_RE = re.compile(r"^(?P<word>[^\[]+?)(?:\[(?P<vars>[^\]]+)\])?$")


def cite(law: str) -> str:
    law = law.strip()
    if law.startswith("《"):
        return law
    match = LAW_RE.match(law)
    if not match or match.group("abbr") not in cat.LAWS:
        raise ValueError(f"unknown law abbreviation: {law}")
    text = f"《{cat.LAWS[match.group('abbr')]}》"
    if match.group("article"):
        text += f"第{cn_number(int(match.group('article')))}条"
    return text


def parse_options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in text.split():
        key, _, value = token.partition("=")
        options[key] = value or "1"
    return options


def parse_catalogue() -> list[dict[str, Any]]:
    """Expand the spec lines into one proto item per 业务办理项, in file order."""
    protos: list[dict[str, Any]] = []
    for dept_key, block in specs.ITEM_SPECS:
        previous_laws: list[str] = []
        for raw in block.strip().splitlines():
            fields = [f.strip() for f in raw.split("|")] + [""] * 10
            type_code, name, variant_text, aud, theme_text, result_text = fields[:6]
            keyword_text, material_text, law_text, option_text = fields[6:10]
            laws = [cite(x) for x in law_text.split(";") if x.strip()] or previous_laws
            if not laws:
                raise ValueError(f"no legal basis for {name}")
            previous_laws = laws
            options = parse_options(option_text)
            if "{}" in name:
                variants = [v.strip() for v in variant_text.split(",") if v.strip()]
            else:
                variants = [""]
            materials = []
            for chunk in [m.strip() for m in material_text.split(";") if m.strip()]:
                match = MATERIAL_RE.match(chunk)
                if not match:
                    raise ValueError(f"bad material {chunk!r} in {name}")
                materials.append(
                    {
                        "name": match.group("name").strip(),
                        "optional": "?" in match.group("flags"),
                        "tolerable": "~" in match.group("flags"),
                        "license_type": match.group("lic"),
                        "variants": match.group("vars").split("/") if match.group("vars") else None,
                    }
                )
            results = []
            for chunk in [r.strip() for r in result_text.split(";") if r.strip()]:
                match = RESULT_RE.match(chunk)
                if not match:
                    raise ValueError(f"bad result {chunk!r} in {name}")
                results.append(
                    {
                        "name": match.group("name").strip(),
                        "license_type": match.group("lic"),
                        "variants": match.group("vars").split("/") if match.group("vars") else None,
                    }
                )
            keywords = []
            variant_texts = {v.partition(":")[0] for v in variants}
            for chunk in [k.strip() for k in keyword_text.split(",") if k.strip()]:
                match = KEYWORD_RE.match(chunk)
                scope = match.group("vars").split("/") if match and match.group("vars") else None
                if not match or (scope and not set(scope) <= variant_texts):
                    raise ValueError(f"bad keyword {chunk!r} in {name}")
                keywords.append((match.group("word").strip(), scope))
            main_name = name.replace("（{}）", "").replace("{}", "")
            main_id = len(protos)
            for sub_index, variant in enumerate(variants, 1):
                text, _, type_override = variant.partition(":")
                protos.append(
                    {
                        "dept_key": dept_key,
                        "type_code": type_override or type_code,
                        "name": name.replace("{}", text) if text else name,
                        "variant": text,
                        "main_name": main_name,
                        "main_group": f"{dept_key}:{main_id}",
                        "separate": "sep" in options,
                        "sub_index": sub_index,
                        "aud": aud,
                        "themes": [t for t in theme_text.split(",") if t],
                        "results": results,
                        "keywords": [w for w, scope in keywords if scope is None or text in scope],
                        "materials": materials,
                        "laws": laws,
                        "options": options,
                    }
                )
    return protos


# --------------------------------------------------------------------------------------------
# items


def variant_applies(spec: dict[str, Any], variant: str) -> bool:
    return spec["variants"] is None or variant in spec["variants"]


FORM_OVERRIDES = (
    ("居民身份证", "《居民身份证申领登记表》"),
    ("临时居民身份证", "《临时居民身份证申领登记表》"),
    ("普通护照", "《中国公民出入境证件申请表》"),
    ("往来港澳", "《中国公民出入境证件申请表》"),
    ("往来台湾", "《中国公民出入境证件申请表》"),
    ("赴台签注", "《中国公民出入境证件申请表》"),
    ("个人所得税综合所得汇算清缴", "《个人所得税年度自行纳税申报表（A表）》"),
    ("个人所得税经营所得", "《个人所得税经营所得纳税申报表（A表）》"),
    ("个人所得税分类所得", "《个人所得税自行纳税申报表（A表）》"),
)
REAL_ESTATE_WORDS = (
    "不动产",
    "房屋所有权",
    "抵押权",
    "预告登记",
    "居住权",
    "地役权",
    "国有建设用地使用权",
)


def form_name(item: dict[str, Any]) -> str | None:
    """The application form (申请表) of an item, named the way provincial catalogues name it."""
    name, variant, type_code = item["name"], item["_variant"], item["type_code"]
    if type_code == "06" or any(
        w in name for w in ("打印", "咨询", "报修", "查找", "预约", "下载", "查询")
    ):
        return None
    for prefix, form in FORM_OVERRIDES:
        if name.startswith(prefix):
            return form
    if item["_dept_key"] == "GZJ" and any(w in name for w in REAL_ESTATE_WORDS):
        return "《不动产登记申请书》"
    qualifier = ""
    base = name
    if variant and f"（{variant}）" in name:
        base = name.replace(f"（{variant}）", "")
        qualifier = "" if variant in NEW_VARIANTS else f"（{variant}）"
    elif not variant and name.endswith("）") and "（" in name:
        base, _, rest = name.partition("（")
        qualifier = f"（{rest}"
    for suffix in ("核发", "签发", "办理"):
        if base.endswith(suffix) and len(base) > len(suffix) + 2:
            base = base[: -len(suffix)]
    if type_code == "04":
        # a levy is declared by the payer; a compensation decision is made ex officio
        return (
            f"《{base.removesuffix('征收')}申报表{qualifier}》" if base.endswith("征收") else None
        )
    if base.endswith(("说明", "协议")):
        return f"《{base}》"
    if base.endswith("告知"):
        return f"《{base}书》"
    if base.endswith(("投诉处理", "投诉受理", "举报受理", "诉求受理")):
        return f"《{base[:-2]}登记表{qualifier}》"
    if base.endswith(("申领", "申报", "报告", "备案")):
        return f"《{base}表{qualifier}》"
    if base.endswith("申请"):
        return f"《{base}表{qualifier}》"
    if base.endswith("受理"):
        return f"《{base.removesuffix('受理')}登记表{qualifier}》"
    return f"《{base}申请表{qualifier}》"


def identity_materials(item: dict[str, Any]) -> list[dict[str, Any]]:
    aud = item["audiences"]
    name = item["name"]
    person = "natural_person" in aud
    orgs = [a for a in aud if a != "natural_person"]
    out: list[dict[str, Any]] = []
    if person and not ("身份证" in name and "首次申领" in name):
        label = "父母（监护人）居民身份证" if ("出生" in name or "新生儿" in name) else "居民身份证"
        out.append({"name": label, "necessity": "required", "license_type": "ID_CARD"})
    founding = any(
        w in name
        for w in ("设立登记", "成立登记", "名称自主申报", "开办企业", "设立审批", "转型为企业")
    )
    if orgs and not founding:
        if "enterprise_legal_person" in orgs or "unincorporated_enterprise" in orgs:
            org_doc = ("营业执照", "BUSINESS_LICENSE")
        elif "social_organization_legal_person" in orgs:
            org_doc = ("社会组织法人登记证书", "SOCIAL_ORG_CERT")
        elif "public_institution_legal_person" in orgs:
            org_doc = ("事业单位法人证书", "PUBLIC_INSTITUTION_CERT")
        else:
            org_doc = None
        if org_doc:
            label = org_doc[0] if not person else f"{org_doc[0]}（单位申请时提交）"
            out.append(
                {
                    "name": label,
                    "necessity": "optional" if person else "required",
                    "license_type": org_doc[1],
                }
            )
        if not person and item["type_code"] == "01":
            out.append(
                {
                    "name": "法定代表人（负责人）居民身份证",
                    "necessity": "required",
                    "license_type": "ID_CARD",
                }
            )
    return out


SECONDARY_WORDS = (
    "平面",
    "布局图",
    "照片",
    "证明",
    "说明",
    "制度",
    "清单",
    "名单",
    "名册",
    "台账",
    "资料",
    "记录",
)


def build_protos_into_items(
    rng: random.Random, protos: list[dict[str, Any]], depts: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    items = []
    main_no = 0
    group_main: dict[str, int] = {}
    for seq, proto in enumerate(protos):
        group = proto["main_group"]
        if proto["separate"] or group not in group_main:
            main_no += rng.randint(1, 6)
            group_main[group] = main_no
            sub = 1 if proto["separate"] else proto["sub_index"]
        else:
            sub = proto["sub_index"]
        dept = depts[proto["dept_key"]]
        basic = f"{proto['type_code']}{group_main[group]:05d}{sub:03d}00"
        audiences = [AUDIENCE_CODES[c] for c in "PEISUAO" if c in proto["aud"]]
        items.append(
            {
                "_seq": seq,
                "_proto": proto,
                "_dept_key": proto["dept_key"],
                "_variant": proto["variant"],
                "_opts": proto["options"],
                "code": f"{basic}{DISTRICT}{dept['code']}001",
                "basic_code": basic,
                "name": proto["name"],
                "type_code": proto["type_code"],
                "department_code": dept["code"],
                "audiences": audiences,
                "version": 1,
            }
        )
    return items


def is_person(item: dict[str, Any]) -> bool:
    return "natural_person" in item["audiences"]


def has_org(item: dict[str, Any]) -> bool:
    return any(a != "natural_person" for a in item["audiences"])


def build_items(
    rng: random.Random, depts: dict[str, dict[str, Any]], theme_audience: dict[str, str]
) -> list[dict[str, Any]]:
    protos = parse_catalogue()
    items = build_protos_into_items(rng, protos, depts)
    if len(items) != TOTAL_ITEMS:
        raise SystemExit(f"catalogue has {len(items)} items, expected {TOTAL_ITEMS}")
    names = [it["name"] for it in items]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise SystemExit(f"duplicate item names: {dupes}")

    # status, power source, exercise level, implementing body
    for it in items:
        opts, dept = it["_opts"], depts[it["_dept_key"]]
        it["status"] = "active"
        if "ent" in opts:
            power, nature, entrusted = "entrusted_by_higher", "entrusted_organization", opts["ent"]
        elif "dl" in opts:
            power, nature, entrusted = "delegated_from_higher", "statutory_organ", None
        elif "au" in opts:
            power, nature, entrusted = "authorized_by_higher", "authorized_organization", None
        else:
            power, nature, entrusted = "statutory", "statutory_organ", None
        if dept["kind"] == "resident_unit":
            level = "municipal"
        elif "S" in opts:
            level = "street"
        else:
            level = "district"
        if it["_dept_key"] == "CLL":
            nature = "authorized_organization"
            power = "authorized_by_higher" if power == "statutory" else power
        it["power_source"] = power
        it["exercise_level"] = level
        it["implementing_body"] = {"name": dept["name"], "code": dept["code"], "nature": nature}
        it["entrusted_department"] = entrusted
    # 暂停: application windows that are closed for the season; 取消: programmes that ended
    for it in items:
        if it["name"] in SUSPENDED_ITEMS:
            it["status"] = "suspended"
        elif it["name"] in CANCELLED_ITEMS:
            it["status"] = "cancelled"
    statuses = [i["status"] for i in items]
    if statuses.count("suspended") != len(SUSPENDED_ITEMS) or statuses.count("cancelled") != len(
        CANCELLED_ITEMS
    ):
        raise SystemExit("SUSPENDED_ITEMS / CANCELLED_ITEMS name items that do not exist")
    # online depth and visits -------------------------------------------------------------
    offline = [i for i in items if i["type_code"] == "06" or "x" in i["_opts"]]
    if len(offline) < TARGET_NON_ONLINE:
        extra = pick(
            rng,
            [i for i in items if i not in offline and i["type_code"] in ("09", "08")],
            TARGET_NON_ONLINE - len(offline),
        )
        offline.extend(extra)
    offline_ids = {i["_seq"] for i in offline}
    for it in items:
        # on-site steps and extra procedures belong to first-time/substantive variants only;
        # cancelling or replacing a certificate needs neither
        if any(w in it["_variant"] for w in PAPERWORK_VARIANTS):
            it["_opts"] = {k: v for k, v in it["_opts"].items() if k not in ("sp", "v")}
    must_visit = {i["_seq"] for i in items if "v" in i["_opts"]}
    for it in items:
        it["_online"] = it["_seq"] not in offline_ids
        it["_sp"] = [p.split(":") for p in it["_opts"].get("sp", "").split("/") if p]

    approvals = pick(
        rng,
        [
            i
            for i in items
            if "m" in i["_opts"]
            and i["_online"]
            and not i["_sp"]
            and i["_seq"] not in must_visit
            and i["status"] == "active"
            and not any(w in i["name"] for w in CLOSING_WORDS)
        ],
        TARGET_INSTANT_APPROVAL,
    )
    if len(approvals) < TARGET_INSTANT_APPROVAL:
        raise SystemExit(f"only {len(approvals)} 秒批 candidates")
    approval_ids = {i["_seq"] for i in approvals}

    visit_one = {
        i["_seq"]
        for i in items
        if i["_seq"] in must_visit or (not i["_online"] and i["type_code"] != "06")
    }
    fill = pick(
        rng,
        [
            i
            for i in items
            if i["_seq"] not in visit_one
            and i["_seq"] not in approval_ids
            and i["_online"]
            and not {"ss", "m"} & set(i["_opts"])
            and i["type_code"] != "04"
        ],
        TARGET_VISIT_ONE - len(visit_one),
        priority=lambda i: (
            2
            if ("i" in i["_opts"] or "dw" in i["_opts"])
            else (
                0
                if i["type_code"] in ("01", "07", "09")
                and (i["_variant"] in NEW_VARIANTS or not i["_variant"])
                else 1
            )
        ),
    )
    visit_one |= {i["_seq"] for i in fill}
    for it in items:
        if it["_seq"] in visit_one:
            it["visits"] = 1
            if "v" in it["_opts"]:
                it["visit_reason"] = it["_opts"]["v"]
            elif not it["_online"]:
                it["visit_reason"] = rng.choice(OFFLINE_REASONS)
            else:
                it["visit_reason"] = rng.choice(
                    VISIT_REASONS.get(it["type_code"], VISIT_REASONS["default"])
                )
        else:
            it["visits"] = 0
            it["visit_reason"] = None
        if not it["_online"]:
            it["online_depth"] = 1 if it["type_code"] == "06" else 2
        else:
            it["online_depth"] = 3 if it["visits"] else 4
        it["instant_approval"] = it["_seq"] in approval_ids

    no_meeting = pick(
        rng,
        [
            i
            for i in items
            if i["visits"] == 0 and i["online_depth"] == 4 and i["status"] == "active"
        ],
        TARGET_NO_MEETING,
        priority=lambda i: 0 if i["type_code"] in ("01", "07", "10", "05") else 1,
    )
    no_meeting_ids = {i["_seq"] for i in no_meeting}
    for it in items:
        it["no_meeting"] = it["_seq"] in no_meeting_ids
    # some zero-visit items are pre-examined online and finished by post (depth 3 + mail)
    posted = pick(
        rng,
        [
            i
            for i in items
            if i["online_depth"] == 4
            and not i["no_meeting"]
            and not i["instant_approval"]
            and i["type_code"] in ("01", "07", "10")
        ],
        40,
    )
    posted_ids = {i["_seq"] for i in posted}
    for it in items:
        if it["_seq"] in posted_ids:
            it["online_depth"] = 3
        it["online"] = it["online_depth"] >= 3

    # handling type --------------------------------------------------------------------------
    instant_ids = set(approval_ids)
    candidates = [
        i
        for i in items
        if i["_seq"] not in instant_ids
        and "i" in i["_opts"]
        and not i["_sp"]
        and i["type_code"] not in ("06", "09")
    ]
    chosen = pick(
        rng,
        candidates,
        TARGET_INSTANT - len(instant_ids),
        priority=lambda i: 0 if ("ss" in i["_opts"] or i["type_code"] in ("04", "20")) else 1,
    )
    instant_ids |= {i["_seq"] for i in chosen}
    if len(instant_ids) < TARGET_INSTANT:
        more = pick(
            rng,
            [
                i
                for i in items
                if i["_seq"] not in instant_ids
                and not i["_sp"]
                and i["type_code"] in ("20", "10", "07", "04")
            ],
            TARGET_INSTANT - len(instant_ids),
        )
        instant_ids |= {i["_seq"] for i in more}
    for it in items:
        it["handling_type"] = "instant" if it["_seq"] in instant_ids else "promised"
        it["instant"] = it["handling_type"] == "instant"

    # time limits -----------------------------------------------------------------------------
    default_legal = {
        "01": [20, 20, 20, 20, 15, 10, 30],
        "04": [10, 15],
        "05": [20, 20, 30, 15],
        "06": [30],
        "07": [20, 20, 15, 10, 30],
        "08": [30, 20],
        "09": [60, 45],
        "10": [20, 20, 15, 10],
        "20": [15, 20, 10, 10, 5],
    }
    for it in items:
        opts = it["_opts"]
        legal = int(opts["L"]) if "L" in opts else rng.choice(default_legal[it["type_code"]])
        it["legal_limit_days"] = legal
        if it["instant"]:
            it["promised_limit_days"] = 0
        elif "P" in opts:
            it["promised_limit_days"] = min(int(opts["P"]), legal)
        else:
            low, high = (0.62, 0.86) if it["type_code"] == "01" else (0.3, 0.8)
            cut = rng.uniform(low, high)
            it["promised_limit_days"] = max(1, min(legal, round(legal * (1 - cut))))

    # 通办 --------------------------------------------------------------------------------------
    wide_pool = [
        i
        for i in items
        if i["status"] == "active" and i["online"] and i["type_code"] not in ("06", "09", "08")
    ]
    wide = pick(
        rng,
        wide_pool,
        TARGET_DISTRICT_WIDE,
        priority=lambda i: (
            0
            if "dw" in i["_opts"]
            else (1 if is_person(i) and i["type_code"] in ("20", "07", "05") else 2)
        ),
    )
    national_words = (
        "社会保障卡",
        "养老保险关系转移",
        "异地就医",
        "居民身份证跨省",
        "个人所得税",
        "失业保险关系",
        "医疗保险关系",
        "电子营业执照",
    )
    cross_words = (
        *national_words,
        "户口迁移",
        "户籍证明",
        "就业创业证",
        "失业登记",
        "公积金",
        "退休",
        "参保",
        "学籍",
        "驾驶证",
        "养老金",
        "无犯罪",
        "出生医学证明",
        "婚姻登记档案",
        "居民身份证补领",
        "居民身份证换领",
    )
    wide_sorted = sorted(wide, key=lambda i: i["_seq"])
    national = pick(
        rng, [i for i in wide_sorted if any(w in i["name"] for w in national_words)], 10
    )
    rest = [i for i in wide_sorted if i not in national]
    cross = pick(rng, [i for i in rest if any(w in i["name"] for w in cross_words)], 22)
    rest = [i for i in rest if i not in cross]
    province = pick(rng, rest, 24)
    rest = [i for i in rest if i not in province]
    city = pick(rng, rest, 46)
    scopes = {}
    for group, scope in (
        (national, "national"),
        (cross, "cross_province"),
        (province, "province"),
        (city, "city"),
    ):
        for it in group:
            scopes[it["_seq"]] = scope
    wide_ids = {i["_seq"] for i in wide}
    for it in items:
        it["handling_scope"] = (
            scopes.get(it["_seq"], "district") if it["_seq"] in wide_ids else "none"
        )
        it["district_wide"] = it["handling_scope"] != "none"

    # places, appointment, delivery -----------------------------------------------------------
    # 不动产登记 is handled in its own sub-hall, 出入境/交管 in the police halls (option nh)
    real_estate = (
        "不动产",
        "房屋所有权",
        "抵押权",
        "预告登记",
        "居住权",
        "地役权",
        "住房情况",
        "国有建设用地使用权",
    )
    for it in items:
        it["in_hall"] = not (
            it["type_code"] in ("06", "08", "09")
            or "nh" in it["_opts"]
            or (it["_dept_key"] == "GZJ" and any(w in it["name"] for w in real_estate))
            or it["status"] == "cancelled"  # a cancelled item is no longer accepted anywhere
        )
    for it in items:
        has_document = any(r["license_type"] for r in it["_proto"]["results"])
        it["appointment"] = (
            it["online"]
            and (it["in_hall"] or it["visits"] > 0)
            and (it["visits"] > 0 or rng.random() < 0.7)
        )
        it["mail_delivery"] = it["_seq"] in posted_ids or (
            it["online"]
            and not it["instant"]
            and it["type_code"] in ("01", "07")
            and has_document
            and rng.random() < 0.75
        )
        if it["online_depth"] == 3 and it["visits"] == 0:
            it["mail_delivery"] = True

    # 自助终端
    self_ids = {i["_seq"] for i in items if "ss" in i["_opts"] and i["status"] == "active"}
    extra = pick(
        rng,
        [
            i
            for i in items
            if i["_seq"] not in self_ids
            and i["status"] == "active"
            and i["instant"]
            and i["online_depth"] == 4
            and is_person(i)
            and i["type_code"] == "20"
        ],
        TARGET_SELF_SERVICE - len(self_ids),
    )
    self_ids |= {i["_seq"] for i in extra}
    for it in items:
        it["self_service"] = it["_seq"] in self_ids

    # fees
    for it in items:
        fee_key = it["_opts"].get("c")
        if it["_variant"] and "注销" in it["_variant"]:
            fee_key = None  # cancelling a registration is free of charge
        it["charged"] = bool(fee_key)
        it["fees"] = []
        if fee_key:
            name, standard, basis, reduction = cat.FEES[fee_key]
            it["fees"].append(
                {"name": name, "standard": standard, "basis": basis, "reduction": reduction}
            )

    no_copy = pick(
        rng,
        [i for i in items if i["status"] == "active"],
        TARGET_NO_PHOTOCOPY,
        priority=lambda i: 0 if i["online_depth"] == 4 else 1,
    )
    no_copy_ids = {i["_seq"] for i in no_copy}
    for it in items:
        it["no_photocopy"] = it["_seq"] in no_copy_ids

    # materials, 容缺 --------------------------------------------------------------------------
    for it in items:
        build_materials(rng, it)
    tolerable = [i for i in items if not i["instant"] and i["_tolerable"]]
    tolerated = pick(
        rng,
        tolerable,
        TARGET_TOLERATES,
        priority=lambda i: 0 if i["type_code"] in ("01", "07", "05") else 1,
    )
    if len(tolerated) < TARGET_TOLERATES:
        raise SystemExit(f"only {len(tolerated)} items can tolerate missing materials")
    for it in tolerated:
        index = rng.choice(it["_tolerable"])
        material = it["materials"][index]
        material["necessity"] = "tolerated"
        material["notes"] = "可容缺受理：申请人签署承诺书后，在承诺办结时限内补交"
    for it in items:
        it["tolerates_missing"] = any(m["necessity"] == "tolerated" for m in it["materials"])
        del it["_tolerable"]

    # the rest of the record -------------------------------------------------------------------
    for it in items:
        finish_item(rng, it, depts, theme_audience)
    unused = [f for f, _ in volumes.VOLUMES if not any(f in i["name"] for i in items)]
    if unused:
        raise SystemExit(f"volume table names no item: {unused}")
    for it in items:
        it["annual_volume"] = annual_volume(it)
    return items


def annual_volume(it: dict[str, Any]) -> int:
    """Cases a year (see affairs_volumes), with a fixed per-item spread of ±20%."""
    base = next((v for fragment, v in volumes.VOLUMES if fragment in it["name"]), None)
    if base is None:
        base = volumes.DEFAULT_BY_TYPE[it["type_code"]] * (2 if is_person(it) else 1)
    # str seeds are hashed with SHA-512 by random: the same spread on every run and machine
    spread = random.Random(f"{SEED}:volume:{it['code']}").uniform(0.8, 1.2)
    return int(float(f"{base * spread:.2g}"))


def build_materials(rng: random.Random, it: dict[str, Any]) -> None:
    proto, variant = it["_proto"], it["_variant"]
    specs_here = [m for m in proto["materials"] if variant_applies(m, variant)]
    entries: list[dict[str, Any]] = []
    form = None
    if specs_here and specs_here[0]["name"].startswith("《"):
        form = specs_here.pop(0)["name"]
    elif specs_here and specs_here[0]["name"].endswith(("申报表", "申请表", "申请书", "登记表")):
        form = f"《{specs_here.pop(0)['name']}》"
    else:
        form = form_name(it)
    if form:
        entries.append(
            {"name": form, "necessity": "required", "license_type": None, "kind": "form"}
        )
    for ident in identity_materials(it):
        entries.append({**ident, "kind": "identity"})
    for spec in specs_here:
        entries.append(
            {
                "name": spec["name"],
                "necessity": "optional" if spec["optional"] else "required",
                "license_type": spec["license_type"],
                "kind": "tolerable" if spec["tolerable"] else "specific",
            }
        )
    if it["type_code"] not in ("06", "04") and not it["instant"] and rng.random() < 0.55:
        entries.append(
            {
                "name": "授权委托书及受托人居民身份证",
                "necessity": "optional",
                "license_type": None,
                "kind": "proxy",
            }
        )
    # de-duplicate by name (a spec may repeat an identity document), keep order, cap at 8
    seen: set[str] = set()
    unique = []
    for entry in entries:
        key = entry["name"].split("（")[0]
        if key in seen:
            continue
        seen.add(key)
        unique.append(entry)
    if len(unique) > 8:
        proxy = [e for e in unique if e["kind"] == "proxy"]
        unique = [e for e in unique if e["kind"] != "proxy"][:8]
        if proxy and len(unique) < 8:
            unique.append(proxy[0])
    if not unique:
        unique.append(
            {
                "name": "居民身份证",
                "necessity": "required",
                "license_type": "ID_CARD",
                "kind": "identity",
            }
        )
    materials, tolerable = [], []
    first_law = it["_proto"]["laws"][0]
    for index, entry in enumerate(unique):
        government = entry["license_type"] is not None
        name = entry["name"]
        if government:
            material_form = "electronic"
        elif it["online"]:
            material_form = "paper_and_electronic" if rng.random() < 0.7 else "electronic"
        else:
            material_form = "paper"
        blank = (
            entry["kind"] == "form"
            or name.endswith(("承诺书", "声明书", "委托书", "授权书"))
            or "授权委托书" in name
        )
        sample = entry["kind"] in ("form", "proxy")
        if government:
            notes = "可通过电子证照库调取，申请人授权后免于提交（免证办）"
        elif entry["kind"] == "proxy":
            notes = "委托他人代为办理的提交"
        elif entry["kind"] == "form":
            notes = "可在线填报，系统自动生成" if it["online"] else "可在窗口领取或在线下载"
        else:
            notes = None
        originals = 0 if government else 1
        copies = (
            0
            if (it["no_photocopy"] or government or entry["kind"] == "form")
            else (1 if entry["kind"] != "proxy" else 0)
        )
        materials.append(
            {
                "name": name,
                "form": material_form,
                "necessity": entry["necessity"],
                "source": "government" if government else "applicant",
                "license_type": entry["license_type"],
                "original_copies": originals,
                "photocopies": copies,
                "has_blank_form": blank,
                "has_sample": sample,
                "notes": notes,
                "legal_basis": first_law if entry["kind"] == "form" else None,
            }
        )
        secondary = entry["kind"] == "tolerable" or (
            entry["kind"] == "specific" and any(w in name for w in SECONDARY_WORDS)
        )
        if secondary and not government and entry["necessity"] == "required":
            tolerable.append(index)
    it["materials"] = materials
    it["_tolerable"] = tolerable


def item_results(it: dict[str, Any]) -> list[dict[str, Any]]:
    variant = it["_variant"]
    specs_here = [r for r in it["_proto"]["results"] if variant_applies(r, variant)]
    explicit = any(r["variants"] for r in specs_here)
    if variant and any(w in variant for w in CLOSING_WORDS) and not explicit:
        return [
            {
                "name": "准予注销通知书" if "注销" in variant else "准予终止决定书",
                "type": "approval",
                "license_type": None,
            }
        ]
    if variant == "备案" and not explicit:
        return [{"name": "备案通知书", "type": "other", "license_type": None}]
    results = []
    for spec in specs_here[:2]:
        if spec["license_type"]:
            kind = "license"
        elif spec["name"].endswith(APPROVAL_SUFFIXES):
            kind = "approval"
        else:
            kind = "other"
        results.append({"name": spec["name"], "type": kind, "license_type": spec["license_type"]})
    if not results:
        defaults = {
            "01": ("准予行政许可决定书", "approval"),
            "04": ("完税（缴费）凭证", "other"),
            "05": ("给付核定结果", "other"),
            "06": ("监督检查记录", "other"),
            "07": ("确认结果通知书", "other"),
            "08": ("奖励决定书", "approval"),
            "09": ("裁决决定书", "approval"),
            "10": ("办理结果通知书", "other"),
            "20": ("办理结果告知", "other"),
        }
        name, kind = defaults[it["type_code"]]
        results.append({"name": name, "type": kind, "license_type": None})
    return results


def acceptance_text(it: dict[str, Any], dept: dict[str, Any]) -> str:
    name = it["name"]
    who = "、".join(AUDIENCE_WORDS[a] for a in it["audiences"])
    law = it["_proto"]["laws"][0].split("》")[0] + "》"
    street = "，由户籍所在地或居住地街道受理" if it["exercise_level"] == "street" else ""
    texts = {
        "01": f"申请人为{who}，具备{law}规定的{name}条件，"
        f"申请事项属于{dept['short_name']}职权范围，"
        "申请材料齐全、符合法定形式。",
        "04": f"依照{law}负有缴纳义务的{who}，按规定期限如实申报。",
        "05": f"申请人为符合{law}规定条件的{who}{street}，如实提供本人及家庭相关情况并授权核查。",
        "06": f"依法属于{dept['short_name']}监督检查范围的{who}。",
        "07": f"申请人为{who}{street}，申请确认的事实清楚、证明材料真实有效，符合{law}的规定。",
        "08": f"单位或个人的行为符合{law}规定的奖励条件，相关事实经核实无误。",
        "09": f"申请人与争议事项有直接利害关系，有明确的被申请人、具体的请求和事实理由，"
        f"争议属于{dept['short_name']}依法处理的范围。",
        "10": f"申请人为{who}，依照{law}应当或者可以办理本事项，提交的材料齐全、符合规定格式。",
        "20": f"有办理需求的{who}均可申请{street}，按要求提供有效身份证明和相关材料。",
    }
    return texts[it["type_code"]]


def item_steps(it: dict[str, Any], dept: dict[str, Any]) -> list[dict[str, Any]]:
    window = "综合受理窗口" if it["in_hall"] else f"{dept['short_name']}业务窗口"
    if it["type_code"] == "06":
        days = it["promised_limit_days"]
        return [
            {
                "name": "受理",
                "actor": "业务科室",
                "limit_days": 1,
                "description": "根据年度检查计划、“双随机、一公开”抽查结果"
                "或投诉举报线索确定检查对象。",
            },
            {
                "name": "审核",
                "actor": "执法人员",
                "limit_days": max(days - 2, 0),
                "description": "两名以上执法人员出示执法证件，实施现场检查并制作现场检查记录。",
            },
            {
                "name": "审批",
                "actor": "科室负责人",
                "limit_days": 1,
                "description": "审核检查结果，对发现的问题提出责令整改或者立案查处意见。",
            },
            {
                "name": "办结",
                "actor": "业务科室",
                "limit_days": 0,
                "description": "向被检查对象反馈检查结果，检查结果依法向社会公示。",
            },
        ]
    if it["instant"]:
        return [
            {
                "name": "受理",
                "actor": window,
                "limit_days": 0,
                "description": "核验申请人身份和申请材料，符合条件的当场受理。",
            },
            {
                "name": "办结",
                "actor": window,
                "limit_days": 0,
                "description": "当场审核、当场办结，即时出具办理结果。",
            },
        ]
    promised = it["promised_limit_days"]
    accept = 1 if promised >= 5 else 0
    approve = 1 if promised >= 3 else 0
    review = promised - accept - approve
    leader = "分管领导" if it["type_code"] in ("01", "07", "09", "05", "04") else "科室负责人"
    steps = [
        {
            "name": "受理",
            "actor": window,
            "limit_days": accept,
            "description": "材料齐全、符合法定形式的当场受理并出具受理凭证；"
            "材料不全的一次性告知需补正的全部内容。",
        },
        {
            "name": "审核",
            "actor": "业务科室",
            "limit_days": review,
            "description": "对申请材料进行实质审查，提出审核意见。",
        },
        {
            "name": "审批",
            "actor": leader,
            "limit_days": approve,
            "description": "根据审核意见作出准予或者不予办理的决定。",
        },
        {
            "name": "办结",
            "actor": "业务科室",
            "limit_days": 0,
            "description": "制作办理结果，不予办理的书面说明理由并告知救济途径。",
        },
    ]
    if it["mail_delivery"] or any(r["type"] != "other" for r in it["results"]):
        steps.append(
            {
                "name": "送达",
                "actor": "出件窗口" if not it["mail_delivery"] else "出件窗口（邮政寄递）",
                "limit_days": 0,
                "description": "统一窗口出件，申请人可选择窗口领取或免费邮寄送达。",
            }
        )
    return steps


def finish_item(
    rng: random.Random,
    it: dict[str, Any],
    depts: dict[str, dict[str, Any]],
    theme_audience: dict[str, str],
) -> None:
    dept = depts[it["_dept_key"]]
    proto = it["_proto"]
    it["short_name"] = SHORT_NAMES.get(it["name"])
    it["zero_visit"] = it["visits"] == 0
    it["max_one_visit"] = it["visits"] <= 1
    forms = []
    if it["in_hall"] or it["visits"] > 0 or not it["online"] or rng.random() < 0.8:
        forms.append("window")
    if it["online"]:
        forms.append("online")
    if it["mail_delivery"]:
        forms.append("mail")
    it["handling_forms"] = forms
    it["acceptance_conditions"] = acceptance_text(it, dept)
    it["results"] = item_results(it)
    it["steps"] = item_steps(it, dept)
    special = []
    if not it["instant"]:
        for key, days in it["_sp"]:
            name, description = cat.SPECIAL_PROCEDURES[key]
            special.append({"name": name, "limit_days": int(days), "description": description})
    it["special_procedures"] = special
    it["legal_basis"] = list(proto["laws"])
    themes = []
    for code in proto["themes"]:
        audience = theme_audience[code]
        if (audience == "person" and is_person(it)) or (audience == "legal_person" and has_org(it)):
            themes.append(code)
    if it["_variant"] and "注销" in it["_variant"] and has_org(it) and "L33" not in themes:
        themes.append("L33")
    it["theme_codes"] = themes[:3]
    it["consult_phone"] = dept["phone"]
    it["complaint_phone"] = dept["complaint_phone"]
    it["service_hours"] = HALL_HOURS if it["in_hall"] else STANDARD_HOURS
    sub_hall = sub_hall_of(it)
    if it["in_hall"]:
        it["handling_address"] = f"{locdata.DISTRICT_HALL['address']}综合受理窗口"
    elif sub_hall:
        it["handling_address"] = f"{sub_hall[3]}{sub_hall[1]}"
    else:
        it["handling_address"] = f"{dept['address']}{dept['short_name']}办事窗口"
    keywords = list(proto["keywords"])
    for term, official in naming_keywords():
        if any(e in it["name"] for e in official) and term not in keywords:
            keywords.append(term)
    it["keywords"] = keywords[:5]


def naming_keywords() -> list[tuple[str, list[str]]]:
    """Everyday names that become keywords of the items they name.

    A naming row's first word goes to the items whose name holds one of the row's
    *specific* official words: 4+ characters and named by no other row (驾照 for
    机动车驾驶证; 上小学 for 小学一年级 but not for every 学位申请, which 上学 and 上初中
    point to as well).
    """
    rows = list(lexicon_rows(lexicon.NAMING_GROUPS))
    shared = Counter(e for _, official in rows for e in set(official))
    specific = [
        (words[0], [e for e in official if len(e) >= 4 and shared[e] == 1])
        for words, official in rows
    ]
    return [(term, official) for term, official in specific if official]


def sub_hall_of(it: dict[str, Any]) -> tuple[Any, ...] | None:
    """The specialised sub-hall (SUB_HALLS row) that handles this item, if any."""
    for row in locdata.SUB_HALLS:
        keys, words = row[6], row[7]
        if it["_dept_key"] in keys and any(w in it["name"] for w in words):
            return row
    return None


def strip_private(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in it.items() if not k.startswith("_")} for it in items]


# --------------------------------------------------------------------------------------------
# service network


def jitter(rng: random.Random, centre: tuple[float, float], radius: float) -> tuple[float, float]:
    r = radius * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    lat = centre[0] + r * math.cos(angle)
    lng = centre[1] + r * math.sin(angle) / math.cos(math.radians(centre[0]))
    return round(lat, 6), round(lng, 6)


def build_locations(
    rng: random.Random, items: list[dict[str, Any]], depts: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    used_phones = {d["phone"] for d in depts.values()} | {
        d["complaint_phone"] for d in depts.values()
    }
    active = sorted([i for i in items if i["status"] == "active"], key=lambda i: i["code"])
    code_of = {i["_seq"]: i["code"] for i in items}
    locations = []

    def codes(selected: Iterable[dict[str, Any]]) -> list[str]:
        return sorted({code_of[i["_seq"]] for i in selected})

    hall = locdata.DISTRICT_HALL
    locations.append(
        {
            "code": hall["code"],
            "name": hall["name"],
            "kind": "district_hall",
            "street": hall["street"],
            "address": hall["address"],
            "lat": hall["lat"],
            "lng": hall["lng"],
            "phone": hall["phone"],
            "opening_hours": [*HALL_WEEKDAYS, {"days": [6], "open": "09:00", "close": "12:00"}],
            "always_open": False,
            "window_count": 35,
            "back_office_posts": 36,
            "item_codes": codes(i for i in items if i["in_hall"]),
            "bank": None,
            "notes": hall["notes"],
        }
    )
    used_phones.add(hall["phone"])
    for row in locdata.SUB_HALLS:
        code, name, street, address, (lat, lng), tel = row[:6]
        windows, notes = row[8], row[9]
        selected = [i for i in active if sub_hall_of(i) is not None and sub_hall_of(i)[0] == code]
        used_phones.add(tel)
        locations.append(
            {
                "code": code,
                "name": name,
                "kind": "sub_hall",
                "street": street,
                "address": address,
                "lat": lat,
                "lng": lng,
                "phone": tel,
                "opening_hours": HALL_WEEKDAYS,
                "always_open": False,
                "window_count": windows,
                "back_office_posts": None,
                "item_codes": codes(selected),
                "bank": None,
                "notes": notes,
            }
        )

    wide = [i for i in active if i["district_wide"]]
    street_level = [i for i in active if i["exercise_level"] == "street"]
    people_keys = ("MZJ", "CLL", "TYJ", "WJJ", "RLZY", "YBJ", "JYJ", "SFJ", "ZSJ", "GAFJ")
    person_pool = [
        i
        for i in active
        if is_person(i)
        and i["_dept_key"] in people_keys
        and i["type_code"] not in ("06", "08", "09")
    ]
    community_pool = [
        i
        for i in person_pool
        if i["_dept_key"] in ("MZJ", "CLL", "TYJ", "WJJ", "RLZY", "YBJ", "ZSJ")
    ]
    for s_code, s_name, centre, radius, address, roads, communities in locdata.STREETS:
        base = {i["_seq"] for i in wide} | {i["_seq"] for i in street_level}
        target = rng.randint(236, 288)
        extra = pick(rng, [i for i in person_pool if i["_seq"] not in base], target - len(base))
        selected = [i for i in active if i["_seq"] in base] + extra
        lat, lng = jitter(rng, centre, radius * 0.2)
        locations.append(
            {
                "code": f"STREET-{s_code}",
                "name": f"罗湖区{s_name}街道政务服务中心",
                "kind": "street_hall",
                "street": s_name,
                "address": address,
                "lat": lat,
                "lng": lng,
                "phone": phone(rng, used_phones),
                "opening_hours": HALL_WEEKDAYS,
                "always_open": False,
                "window_count": rng.randint(8, 14),
                "back_office_posts": None,
                "item_codes": codes(selected),
                "bank": None,
                "notes": "区内通办事项可在本中心就近办理，实行“一窗受理、集成服务”。",
            }
        )
        for n, community in enumerate(communities, 1):
            lat, lng = jitter(rng, centre, radius)
            chosen = pick(rng, community_pool, rng.randint(40, 110))
            road = rng.choice(roads)
            locations.append(
                {
                    "code": f"COMM-{s_code}-{n:02d}",
                    "name": f"{s_name}街道{community}社区党群服务中心",
                    "kind": "community_center",
                    "street": s_name,
                    "address": f"深圳市罗湖区{s_name}街道{road}{rng.randint(1, 320)}号"
                    f"{community}社区党群服务中心",
                    "lat": lat,
                    "lng": lng,
                    "phone": phone(rng, used_phones),
                    "opening_hours": HALL_WEEKDAYS,
                    "always_open": False,
                    "window_count": rng.randint(2, 4),
                    "back_office_posts": None,
                    "item_codes": codes(chosen),
                    "bank": None,
                    "notes": "提供社区政务服务、帮办代办和自助服务。",
                }
            )

    # 17 bank branches handle 340 items of (almost) every department
    street_centre = {s[1]: (s[2], s[3]) for s in locdata.STREETS}
    bank_candidates = [
        i for i in active if i["online"] and i["type_code"] not in ("06", "08", "09")
    ]
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for it in bank_candidates:
        by_dept.setdefault(it["_dept_key"], []).append(it)
    pool = []
    for key in sorted(by_dept):
        pool.extend(pick(rng, by_dept[key], 1))
    pool_ids = {i["_seq"] for i in pool}
    pool.extend(
        pick(
            rng,
            [i for i in bank_candidates if i["_seq"] not in pool_ids],
            BANK_POOL - len(pool),
            priority=lambda i: 0 if (i["district_wide"] or i["type_code"] == "20") else 1,
        )
    )
    branch_sets = []
    for _ in locdata.BANKS:
        branch_sets.append(
            {i["_seq"] for i in pick(rng, pool, int(len(pool) * rng.uniform(0.82, 0.95)))}
        )
    for it in sorted(pool, key=lambda i: i["_seq"]):
        if not any(it["_seq"] in s for s in branch_sets):
            branch_sets[rng.randrange(len(branch_sets))].add(it["_seq"])
    for (code, name, bank, street, address), selected in zip(
        locdata.BANKS, branch_sets, strict=True
    ):
        centre, radius = street_centre[street]
        lat, lng = jitter(rng, centre, radius * 0.8)
        locations.append(
            {
                "code": code,
                "name": name,
                "kind": "bank_branch",
                "street": street,
                "address": address,
                "lat": lat,
                "lng": lng,
                "phone": phone(rng, used_phones),
                "opening_hours": [
                    {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "17:00"},
                    {"days": [6, 7], "open": "10:00", "close": "16:00"},
                ],
                "always_open": False,
                "window_count": rng.randint(1, 2),
                "back_office_posts": None,
                "item_codes": sorted(code_of[s] for s in selected),
                "bank": bank,
                "notes": "“政务服务+银行网点”合作专窗，"
                "可办理市场主体登记、社保、公积金等高频事项。",
            }
        )

    self_service = [i for i in active if i["self_service"]]
    hall_points = {hall["name"]: (hall["lat"], hall["lng"])}
    for sub in locdata.SUB_HALLS:
        hall_points[sub[1]] = sub[4]
    for n, (site, street, address) in enumerate(locdata.TERMINAL_SITES[:TERMINAL_COUNT], 1):
        point = next((p for hall_name, p in hall_points.items() if hall_name in site), None)
        if point is None and "公安罗湖分局" in site:
            point = hall_points["深圳市公安局罗湖分局出入境和户政服务大厅"]
        if point is None:
            centre, radius = street_centre[street]
            lat, lng = jitter(rng, centre, radius * 0.9)
        else:
            lat, lng = round(point[0] + 0.00004 * n, 6), round(point[1] - 0.00003 * n, 6)
        chosen = pick(rng, self_service, rng.randint(20, min(80, len(self_service))))
        locations.append(
            {
                "code": f"TERM-{n:02d}",
                "name": f"24小时政务服务自助终端（{site}）",
                "kind": "self_service_terminal",
                "street": street,
                "address": address,
                "lat": lat,
                "lng": lng,
                "phone": "12345",
                "opening_hours": [
                    {"days": [1, 2, 3, 4, 5, 6, 7], "open": "00:00", "close": "24:00"}
                ],
                "always_open": True,
                "window_count": 0,
                "back_office_posts": None,
                "item_codes": codes(chosen),
                "bank": None,
                "notes": "支持身份证、社保卡和刷脸登录，可办理查询打印、签注和缴费等自助事项。",
            }
        )
    locations.sort(key=lambda loc: loc["code"])
    return locations


# --------------------------------------------------------------------------------------------
# FAQ and synonyms


def build_faq(
    rng: random.Random, items: list[dict[str, Any]], depts: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    by_name = {i["name"]: i for i in items}
    dept_order = [d[0] for d in cat.DEPARTMENTS]
    entries: dict[str, list[dict[str, Any]]] = {key: [] for key in dept_order}

    def resolve(refs: list[str]) -> list[dict[str, Any]]:
        found = []
        for ref in refs:
            if ref.endswith("*"):
                matched = [i for i in items if i["name"].startswith(ref[:-1])]
            else:
                matched = [by_name[ref]] if ref in by_name else []
            if not matched:
                raise SystemExit(f"FAQ reference does not resolve: {ref}")
            found.extend(matched)
        return sorted({i["_seq"]: i for i in found}.values(), key=lambda i: i["code"])

    covered: set[int] = set()
    for key, question, answer, refs, themes, keywords in faqdata.FAQ_ENTRIES:
        related = resolve(refs)
        covered |= {i["_seq"] for i in related}
        entries[key].append(
            {
                "question": question,
                "answer": answer,
                "items": related,
                "themes": themes,
                "keywords": keywords,
                "kind": 1,
            }
        )

    for key in dept_order:
        dept = depts[key]
        own = sorted([i for i in items if i["_dept_key"] == key], key=lambda i: i["code"])
        licensing = [i for i in own if i["type_code"] == "01"]
        if licensing:
            online = sum(1 for i in licensing if i["online_depth"] == 4)
            hall = sum(1 for i in licensing if i["in_hall"])
            question = f"{dept['short_name']}有哪些行政许可事项？在哪里办理？"
            answer = (
                f"{dept['short_name']}共有{len(licensing)}项行政许可事项（含业务办理项），其中{hall}项进驻罗湖区政务服务中心，"
                f"{online}项可全程网上办理。申请人可通过广东政务服务网或“i罗湖”App在线申请，也可到综合受理窗口办理，"
                "实行“前台综合受理、后台分类审批、统一窗口出件”。"
                f"咨询电话：{dept['phone']}；监督投诉电话：{dept['complaint_phone']}。"
            )
            related = licensing
        else:
            related = pick(rng, own, min(15, len(own)))
            related.sort(key=lambda i: i["code"])
            question = f"{dept['short_name']}的政务服务事项怎么办理？"
            answer = (
                f"{dept['short_name']}共有{len(own)}项政务服务事项，可通过广东政务服务网、“i罗湖”App在线办理，"
                f"或到罗湖区政务服务中心综合受理窗口和各街道政务服务中心办理。"
                f"咨询电话：{dept['phone']}；监督投诉电话：{dept['complaint_phone']}。"
            )
        covered |= {i["_seq"] for i in related}
        themes = sorted({t for i in related for t in i["theme_codes"]})[:3]
        entries[key].insert(
            0,
            {
                "question": question,
                "answer": answer,
                "items": related,
                "themes": themes,
                "keywords": [dept["short_name"], "办理地点"],
                "kind": 0,
            },
        )

    # data-derived questions about licensing main items not yet asked about individually
    asked = {
        i["_seq"] for key in dept_order for e in entries[key] if e["kind"] == 1 for i in e["items"]
    }
    groups: dict[str, list[dict[str, Any]]] = {}
    for it in sorted(items, key=lambda i: i["_seq"]):
        if it["type_code"] == "01" and it["status"] == "active":
            groups.setdefault(it["_proto"]["main_group"], []).append(it)
    open_groups = [g for g in groups.values() if not any(i["_seq"] in asked for i in g)]
    needed = FAQ_TOTAL - sum(len(v) for v in entries.values())
    chosen = pick(rng, [g[0] for g in open_groups], needed)
    for n, head in enumerate(sorted(chosen, key=lambda i: i["_seq"])):
        group = groups[head["_proto"]["main_group"]]
        key = head["_dept_key"]
        entries[key].append(derived_faq(n, head, group, depts[key]))

    faqs = []
    order = 0
    for key in dept_order:
        for entry in entries[key]:
            order += 1
            faqs.append(
                {
                    "code": f"FAQ-{order:04d}",
                    "question": entry["question"],
                    "answer": entry["answer"],
                    "department_code": depts[key]["code"],
                    "item_codes": [i["code"] for i in entry["items"]],
                    "theme_codes": entry["themes"],
                    "keywords": entry["keywords"],
                    "sort_order": order,
                }
            )
    if len(faqs) != FAQ_TOTAL:
        raise SystemExit(f"FAQ library has {len(faqs)} entries, expected {FAQ_TOTAL}")
    return faqs


def derived_faq(
    n: int, head: dict[str, Any], group: list[dict[str, Any]], dept: dict[str, Any]
) -> dict[str, Any]:
    main = head["_proto"]["main_name"]
    required = [m["name"].strip("《》") for m in head["materials"] if m["necessity"] == "required"]
    free = [m["name"] for m in head["materials"] if m["source"] == "government"]
    if head["instant"]:
        timing = "属于即办件，材料齐全、符合条件的当场办结"
    else:
        timing = (
            f"法定办结时限为{head['legal_limit_days']}个工作日，"
            f"罗湖区承诺{head['promised_limit_days']}个工作日内办结"
        )
    if head["special_procedures"]:
        sp = "、".join(p["name"] for p in head["special_procedures"])
        timing += f"，{sp}时间不计入办理时限"
    channel = (
        "可通过广东政务服务网或“i罗湖”App全程网上办理，无需到现场"
        if head["online_depth"] == 4
        else "可在网上预审后到窗口办理，最多跑一次"
    )
    style = n % 3
    if style == 0:
        question = f"办理{main}需要准备哪些材料？"
        answer = f"申请{main}需提交{'、'.join(required[:6])}等材料。"
        if free:
            answer += f"其中{'、'.join(free[:3])}可由窗口通过电子证照库调取，无需提交纸质件。"
        answer += f"本事项{timing}。"
    elif style == 1:
        question = f"{main}多长时间能办好？"
        answer = (
            f"{main}{timing}。申请人{channel}。"
            f"办理进度可通过“i罗湖”App或咨询电话{dept['phone']}查询。"
        )
    else:
        question = f"{main}可以网上办理吗？"
        answer = (
            f"{main}{channel}。本事项{timing}。"
            f"如有疑问可拨打{dept['short_name']}咨询电话{dept['phone']}。"
        )
    keywords = []
    for it in group:
        for word in it["keywords"]:
            if word not in keywords:
                keywords.append(word)
    return {
        "question": question,
        "answer": answer,
        "items": sorted(group, key=lambda i: i["code"]),
        "themes": head["theme_codes"][:2],
        "keywords": keywords[:4] or [main],
        "kind": 2,
    }


def lexicon_rows(
    groups: Iterable[list[lexicon.Row]] = lexicon.GROUPS,
) -> Iterable[tuple[tuple[str, ...], tuple[str, ...]]]:
    for group in groups:
        yield from group


def build_synonyms(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every everyday word of the lexicon with the official words of all its rows, in order."""
    names = [i["name"] for i in items]
    merged: dict[str, list[str]] = {}
    for words, official in lexicon_rows():
        missing = [e for e in official if not any(e in n for n in names)]
        if missing:
            raise SystemExit(f"lexicon {words[0]}: official words not in any item name: {missing}")
        for word in words:
            expansions = merged.setdefault(word, [])
            expansions.extend(e for e in official if e not in expansions)
    return [{"term": term, "expansions": merged[term]} for term in sorted(merged)]


# --------------------------------------------------------------------------------------------


def main() -> None:
    global OUT_DIR
    # --out DIR writes elsewhere (the test suite checks the committed files are reproducible).
    if "--out" in sys.argv:
        OUT_DIR = os.path.abspath(sys.argv[sys.argv.index("--out") + 1])
    departments, by_key = build_departments(random.Random(SEED))
    groups, themes, licenses = build_reference()
    theme_audience = {t["code"]: t["audience"] for t in themes}
    items = build_items(random.Random(SEED + 1), by_key, theme_audience)
    locations = build_locations(random.Random(SEED + 2), items, by_key)
    faqs = build_faq(random.Random(SEED + 3), items, by_key)
    synonyms = build_synonyms(items)
    public_items = sorted(strip_private(items), key=lambda i: i["code"])
    os.makedirs(OUT_DIR, exist_ok=True)
    write_json("departments.json", departments)
    write_json("lifecycle_groups.json", groups)
    write_json("themes.json", themes)
    write_json("license_types.json", licenses)
    write_json("items.json", public_items)
    write_json("locations.json", locations)
    write_json("faq.json", faqs)
    write_json("synonyms.json", synonyms)
    print(
        f"wrote {len(departments)} departments, {len(themes)} themes, {len(licenses)} license "
        f"types, {len(public_items)} items, {len(locations)} locations, {len(faqs)} FAQ entries, "
        f"{len(synonyms)} synonyms to {os.path.relpath(OUT_DIR, REPO)}"
    )


if __name__ == "__main__":
    main()
