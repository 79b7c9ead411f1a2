"""Vocabulary of the GEP accounts: service codes, Chinese aliases, categories, methods.

Service codes are English snake_case; Chinese names are accepted as aliases in
every input table. Function-value codes follow the national indicator list
(《生态产品总值核算规范（试行）》 发改基础〔2022〕481号 / GB/T 46869-2025, list not
checked against the text, ⚠️);
equivalent-factor codes follow the 11 services of 谢高地 et al. 2015 (自然资源学报
30(8):1243-1254). The assignment of an indicator to a category is data (the
coefficient set's ``indicators`` table); the categories here are only the
defaults used when no set says otherwise.
"""

from __future__ import annotations

from typing import Final

METHOD_FUNCTION_VALUE: Final = "function_value"
METHOD_EQUIVALENT_FACTOR: Final = "equivalent_factor"
METHODS: Final = (METHOD_FUNCTION_VALUE, METHOD_EQUIVALENT_FACTOR)

# Category codes in report order, with their Chinese names.
CATEGORIES: Final[dict[str, str]] = {
    "provisioning": "物质供给",
    "regulating": "调节服务",
    "supporting": "支持服务",
    "cultural": "文化服务",
}

# Category of the imported-products deduction rows (GB/T 46869-2025: GEP = supplied − from outside the region).
# Not a category of GEP itself: gep.csv shows it as the positive column ``imported_deduction_cny`` and
# total_cny = Σ category columns − imported_deduction_cny.
IMPORTED_DEDUCTION: Final = "imported_deduction"

# Function-value indicators (national list): code -> (Chinese name, default category).
FUNCTION_VALUE_SERVICES: Final[dict[str, tuple[str, str]]] = {
    "agricultural_products": ("农业产品", "provisioning"),
    "forestry_products": ("林业产品", "provisioning"),
    "livestock_products": ("畜牧业产品", "provisioning"),
    "fishery_products": ("渔业产品", "provisioning"),
    "water_supply": ("水资源", "provisioning"),
    "ecological_energy": ("生态能源", "provisioning"),
    "water_conservation": ("水源涵养", "regulating"),
    "soil_retention": ("土壤保持", "regulating"),
    "sand_fixation": ("防风固沙", "regulating"),
    "flood_regulation": ("洪水调蓄", "regulating"),
    "air_purification": ("空气净化", "regulating"),
    "water_purification": ("水质净化", "regulating"),
    "carbon_sequestration": ("固碳", "regulating"),
    "oxygen_release": ("释氧", "regulating"),
    "climate_regulation": ("气候调节", "regulating"),
    "species_conservation": ("物种保育", "regulating"),
    "pest_control": ("病虫害控制", "regulating"),
    "recreation": ("休闲旅游", "cultural"),
    "landscape_value": ("景观价值", "cultural"),
}

# Equivalent-factor services of Xie 2015 (table columns): code -> (Chinese name, category).
EQUIVALENT_FACTOR_SERVICES: Final[dict[str, tuple[str, str]]] = {
    "food_production": ("食物生产", "provisioning"),
    "raw_materials": ("原料生产", "provisioning"),
    "water_supply": ("水资源供给", "provisioning"),
    "gas_regulation": ("气体调节", "regulating"),
    "climate_regulation": ("气候调节", "regulating"),
    "environmental_purification": ("净化环境", "regulating"),
    "hydrological_regulation": ("水文调节", "regulating"),
    "soil_conservation": ("土壤保持", "supporting"),
    "nutrient_cycling": ("维持养分循环", "supporting"),
    "biodiversity": ("生物多样性", "supporting"),
    "aesthetic_landscape": ("美学景观", "cultural"),
}

# Extra Chinese spellings seen in county statistics and papers.
_EXTRA_ALIASES: Final[dict[str, str]] = {
    "农产品": "agricultural_products",
    "林产品": "forestry_products",
    "畜产品": "livestock_products",
    "牧业产品": "livestock_products",
    "水产品": "fishery_products",
    "水资源供给": "water_supply",
    "供水": "water_supply",
    "水电": "ecological_energy",
    "固碳释氧": "carbon_sequestration",
    "大气净化": "air_purification",
    "水体净化": "water_purification",
    "旅游康养": "recreation",
    "休闲游憩": "recreation",
    "景观游憩": "recreation",
    "景观溢价": "landscape_value",
}

# Xie 2015 adjustment-factor groups (谢高地 et al. 2015, 自然资源学报 30(8):1243-1254, ⚠️ formula details):
# which regional ratio scales which equivalent-factor service.
ADJUSTMENT_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "npp": (
        "food_production",
        "raw_materials",
        "gas_regulation",
        "climate_regulation",
        "environmental_purification",
        "nutrient_cycling",
        "biodiversity",
        "aesthetic_landscape",
    ),
    "precipitation": ("water_supply", "hydrological_regulation"),
    "soil": ("soil_conservation",),
}
ADJUSTMENT_ALIASES: Final[dict[str, str]] = {
    "npp": "npp",
    "gpp": "npp",
    "生物量": "npp",
    "净初级生产力": "npp",
    "precipitation": "precipitation",
    "降水": "precipitation",
    "降水量": "precipitation",
    "soil": "soil",
    "soil_retention": "soil",
    "soil_conservation": "soil",
    "土壤保持": "soil",
}


def service_aliases() -> dict[str, str]:
    """Map every accepted spelling (code, Chinese name, common variant) to a service code."""
    out: dict[str, str] = {}
    for table in (EQUIVALENT_FACTOR_SERVICES, FUNCTION_VALUE_SERVICES):
        for code, (zh, _cat) in table.items():
            out[code] = code
            out[zh] = code
    out.update(_EXTRA_ALIASES)
    return out


def category_aliases() -> dict[str, str]:
    """Map category codes and Chinese names to category codes."""
    out = {code: code for code in CATEGORIES}
    out.update({zh: code for code, zh in CATEGORIES.items()})
    out.update({"产品提供": "provisioning", "物质产品": "provisioning", "调节服务产品": "regulating"})
    return out
