"""The e-license types (电子证照类型): the one list, owned by the wallet.

Each type carries its national catalogue code (the ``<type code>`` of a license identifier,
GB/T 36902), who holds it, who in the district may issue it, how long it is valid, and its
extension data (the fields printed on the licence beyond the common metadata), each marked
sensitive or not (sensitive fields are masked by default and disclosed only when chosen).

The affairs module keeps only what its catalogue shows of a type (code, name, issuer kind):
``seeds/affairs/license_types.json`` is generated from this list (scripts/seedgen/affairs.py)
and a test checks that it still matches.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LICENSE_TYPES", "ExtensionField", "LicenseTypeSpec", "license_type"]

# District departments that issue e-licenses (统一社会信用代码, as in the affairs catalogue).
POLICE = "114403000075454928"  # 公安罗湖分局
PLANNING = "11440300MB2C07899C"  # 规划和自然资源罗湖管理局
EDUCATION = "114403030075432865"
CIVIL_AFFAIRS = "114403030075435260"
HOUSING = "11440303007544182A"
WATER = "11440303007544342H"
CULTURE = "114403030075444225"
HEALTH = "11440303007544692P"
DISABLED = "11440303007545062R"
MARKET = "114403030075452221"
HR = "11440303MB2C07135D"
TRANSPORT = "11440303MB2C072151"
VETERANS = "11440303MB2C07303F"
DATA_BUREAU = "11440303MB2C07645T"
TAX = "11440303MB2C07725E"


@dataclass(frozen=True)
class ExtensionField:
    key: str
    label: str
    sensitive: bool = False


@dataclass(frozen=True)
class LicenseTypeSpec:
    code: str  # stable code used across modules, e.g. BUSINESS_LICENSE
    name: str  # 证照类型名称
    national_code: str  # 证照类型代码 in the national catalogue
    issuer_kind: str  # 发证机构类别
    holder_kind: str  # person / legal_person
    issuers: tuple[str, ...]  # departments of the district that may issue it
    validity_years: int | None  # None: 长期 (no end date)
    fields: tuple[ExtensionField, ...] = ()

    @property
    def holder_id_type(self) -> str:
        """持证主体代码类型: a person's 居民身份证号码, an organisation's 统一社会信用代码."""
        return "ID_CARD" if self.holder_kind == "person" else "USCC"


F = ExtensionField
_SCOPE = (F("scope", "许可范围"),)

LICENSE_TYPES: tuple[LicenseTypeSpec, ...] = (
    LicenseTypeSpec(
        "ID_CARD",
        "居民身份证",
        "11100000000013127D001",
        "公安机关",
        "person",
        (POLICE,),
        20,
        (F("gender", "性别"), F("ethnicity", "民族"), F("address", "住址", True)),
    ),
    LicenseTypeSpec(
        "HOUSEHOLD_REGISTER",
        "居民户口簿",
        "11100000000013127D002",
        "公安机关",
        "person",
        (POLICE,),
        None,
        (
            F("household_number", "户号", True),
            F("head_of_household", "户主姓名", True),
            F("relation", "与户主关系"),
            F("address", "住址", True),
        ),
    ),
    LicenseTypeSpec(
        "RESIDENCE_PERMIT",
        "居住证",
        "11100000000013127D003",
        "公安机关",
        "person",
        (POLICE,),
        1,
        (F("address", "居住地址", True),),
    ),
    LicenseTypeSpec(
        "PASSPORT",
        "普通护照",
        "11100000MB1942L52F001",
        "公安机关出入境管理部门",
        "person",
        (POLICE,),
        10,
        (F("passport_number", "护照号码", True),),
    ),
    LicenseTypeSpec(
        "HK_MACAO_PERMIT",
        "往来港澳通行证",
        "11100000MB1942L52F002",
        "公安机关出入境管理部门",
        "person",
        (POLICE,),
        10,
        (F("endorsement", "签注"),),
    ),
    LicenseTypeSpec(
        "DRIVING_LICENSE",
        "机动车驾驶证",
        "11100000000013127D011",
        "公安机关交通管理部门",
        "person",
        (POLICE,),
        6,
        (
            F("vehicle_class", "准驾车型"),
            F("first_issued_on", "初次领证日期"),
            F("file_number", "档案编号", True),
        ),
    ),
    LicenseTypeSpec(
        "VEHICLE_LICENSE",
        "机动车行驶证",
        "11100000000013127D012",
        "公安机关交通管理部门",
        "person",
        (POLICE,),
        None,
        (
            F("plate_number", "号牌号码", True),
            F("vehicle_type", "车辆类型"),
            F("model", "品牌型号"),
            F("registered_on", "注册日期"),
        ),
    ),
    LicenseTypeSpec(
        "BUSINESS_LICENSE",
        "营业执照",
        "11100000MB1A2L7H3A001",
        "市场监督管理部门",
        "legal_person",
        (MARKET,),
        None,
        (
            F("entity_type", "类型"),
            F("legal_representative", "法定代表人", True),
            F("registered_capital", "注册资本"),
            F("established_on", "成立日期"),
            F("domicile", "住所"),
        ),
    ),
    LicenseTypeSpec(
        "FOOD_BUSINESS_LICENSE",
        "食品经营许可证",
        "11100000MB1A2L7H3A005",
        "市场监督管理部门",
        "legal_person",
        (MARKET,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "SMALL_CATERING_LICENSE",
        "小餐饮经营许可证",
        "11100000MB1A2L7H3A031",
        "市场监督管理部门",
        "legal_person",
        (MARKET,),
        3,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "DRUG_BUSINESS_LICENSE",
        "药品经营许可证",
        "11100000MB1A4F3R4A003",
        "药品监督管理部门",
        "legal_person",
        (MARKET,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "SPECIAL_EQUIPMENT_USE_CERT",
        "特种设备使用登记证",
        "11100000MB1A2L7H3A012",
        "市场监督管理部门",
        "legal_person",
        (MARKET,),
        None,
        (F("equipment", "设备名称"),),
    ),
    LicenseTypeSpec(
        "SOCIAL_SECURITY_CARD",
        "社会保障卡",
        "111000000000130127001",
        "人力资源社会保障部门",
        "person",
        (HR,),
        10,
        (F("bank", "发卡银行"), F("bank_account", "金融账户", True)),
    ),
    LicenseTypeSpec(
        "EMPLOYMENT_CERT",
        "就业创业证",
        "111000000000130127004",
        "人力资源社会保障部门",
        "person",
        (HR,),
        None,
        (F("employment_status", "就业状态"),),
    ),
    LicenseTypeSpec(
        "HR_SERVICE_LICENSE",
        "人力资源服务许可证",
        "111000000000130127009",
        "人力资源社会保障部门",
        "legal_person",
        (HR,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "BIRTH_CERTIFICATE",
        "出生医学证明",
        "11100000MB1A2M2N3A001",
        "卫生健康部门",
        "person",
        (HEALTH,),
        None,
        (
            F("birth_place", "出生地点"),
            F("mother_name", "母亲姓名", True),
            F("father_name", "父亲姓名", True),
        ),
    ),
    LicenseTypeSpec(
        "PHYSICIAN_PRACTICE_CERT",
        "医师执业证书",
        "11100000MB1A2M2N3A003",
        "卫生健康部门",
        "person",
        (HEALTH,),
        None,
        (F("practice_scope", "执业范围"),),
    ),
    LicenseTypeSpec(
        "NURSE_PRACTICE_CERT",
        "护士执业证书",
        "11100000MB1A2M2N3A004",
        "卫生健康部门",
        "person",
        (HEALTH,),
        5,
        (F("practice_site", "执业地点"),),
    ),
    LicenseTypeSpec(
        "MEDICAL_INSTITUTION_LICENSE",
        "医疗机构执业许可证",
        "11100000MB1A2M2N3A006",
        "卫生健康部门",
        "legal_person",
        (HEALTH,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "PUBLIC_PLACE_HYGIENE_LICENSE",
        "公共场所卫生许可证",
        "11100000MB1A2M2N3A008",
        "卫生健康部门",
        "legal_person",
        (HEALTH,),
        4,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "ONLY_CHILD_HONOR_CERT",
        "独生子女父母光荣证",
        "11100000MB1A2M2N3A012",
        "卫生健康部门",
        "person",
        (HEALTH,),
        None,
        (F("child_name", "子女姓名", True),),
    ),
    LicenseTypeSpec(
        "MARRIAGE_CERT",
        "结婚证",
        "11100000000012976M001",
        "民政部门",
        "person",
        (CIVIL_AFFAIRS,),
        None,
        (
            F("registered_on", "登记日期"),
            F("spouse_name", "配偶姓名", True),
            F("spouse_id_number", "配偶身份证件号", True),
        ),
    ),
    LicenseTypeSpec(
        "DIVORCE_CERT",
        "离婚证",
        "11100000000012976M002",
        "民政部门",
        "person",
        (CIVIL_AFFAIRS,),
        None,
        (F("registered_on", "登记日期"),),
    ),
    LicenseTypeSpec(
        "SOCIAL_ORG_CERT",
        "社会组织法人登记证书",
        "11100000000012976M006",
        "民政部门",
        "legal_person",
        (CIVIL_AFFAIRS,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "DISABILITY_CERT",
        "中华人民共和国残疾人证",
        "111000004000013283001",
        "残疾人联合会",
        "person",
        (DISABLED,),
        10,
        (F("disability_category", "残疾类别", True), F("disability_grade", "残疾等级", True)),
    ),
    LicenseTypeSpec(
        "TEACHER_QUALIFICATION",
        "教师资格证书",
        "11100000000012845R002",
        "教育行政部门",
        "person",
        (EDUCATION,),
        None,
        (F("subject", "任教学科"),),
    ),
    LicenseTypeSpec(
        "PRIVATE_SCHOOL_LICENSE",
        "民办学校办学许可证",
        "11100000000012845R005",
        "教育行政部门",
        "legal_person",
        (EDUCATION, HR),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "REAL_ESTATE_CERT",
        "不动产权证书",
        "11100000MB1A2L4B59001",
        "自然资源部门",
        "person",
        (PLANNING,),
        None,
        (
            F("location", "坐落", True),
            F("unit_number", "不动产单元号"),
            F("area", "面积"),
            F("use", "用途"),
            F("right_type", "权利性质"),
        ),
    ),
    LicenseTypeSpec(
        "CONSTRUCTION_QUALIFICATION",
        "建筑业企业资质证书",
        "11100000000013186G002",
        "住房和城乡建设部门",
        "legal_person",
        (HOUSING,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "CONSTRUCTION_PERMIT",
        "建筑工程施工许可证",
        "11100000000013186G005",
        "住房和城乡建设部门",
        "legal_person",
        (HOUSING,),
        None,
        (F("project", "工程名称"),),
    ),
    LicenseTypeSpec(
        "DRAINAGE_PERMIT",
        "城镇污水排入排水管网许可证",
        "11100000000013426B004",
        "水务部门",
        "legal_person",
        (WATER,),
        5,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "ROAD_TRANSPORT_LICENSE",
        "道路运输经营许可证",
        "111000000000133895002",
        "交通运输部门",
        "legal_person",
        (TRANSPORT,),
        4,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "PERFORMANCE_LICENSE",
        "营业性演出许可证",
        "11100000MB1A3L8P0L001",
        "文化和旅游部门",
        "legal_person",
        (CULTURE,),
        2,
        _SCOPE,
    ),
    LicenseTypeSpec(
        "TAX_PAYMENT_CERT",
        "税收完税证明",
        "111000000000135652003",
        "税务机关",
        "person",
        (TAX,),
        None,
        (F("tax_period", "所属期"), F("amount", "金额", True)),
    ),
    LicenseTypeSpec(
        "VETERAN_PREFERENTIAL_CERT",
        "退役军人优待证",
        "11100000MB1A4K2D7E001",
        "退役军人事务部门",
        "person",
        (VETERANS,),
        None,
        (F("category", "优待类别"),),
    ),
    # 机构编制部门 (区委编办) is not among the catalogue's departments: the data bureau signs
    # for it here until it is.
    LicenseTypeSpec(
        "PUBLIC_INSTITUTION_CERT",
        "事业单位法人证书",
        "11100000000012757B001",
        "机构编制部门",
        "legal_person",
        (DATA_BUREAU,),
        5,
        _SCOPE,
    ),
)

_BY_CODE = {spec.code: spec for spec in LICENSE_TYPES}


def license_type(code: str) -> LicenseTypeSpec | None:
    return _BY_CODE.get(code)
