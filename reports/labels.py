"""Report labels in Chinese and English: the one place where report wording lives.

``label(key, lang)`` returns the text for ``lang`` in ``zh`` | ``en`` | ``zh-en``
(bilingual: "中文 / English"). Engine codes (categories, services, pools) that are
not in the dictionary are shown as written by the engine.
"""

from __future__ import annotations

from typing import Final

from gep.coefficients import ecosystem_types

from gep.account import catalog

LANGS: Final = ("zh", "en", "zh-en")

# key -> (zh, en)
LABELS: Final[dict[str, tuple[str, str]]] = {
    # report structure
    "report_title": ("生态产品总值（GEP）核算报告", "Gross Ecosystem Product (GEP) report"),
    "cover": ("封面", "Cover"),
    "summary_sheet": ("汇总", "Summary"),
    "flow_title_note": ("悬停可见每笔流向的金额（元）", "hover a band for its amount in yuan"),
    "account_scope": ("{region} · {year}年 · {method} · 价值量单位：{unit}",
                      "{region} · {year} · {method} · values in {unit}"),
    "county_sheets_note": ("本次核算含 {n} 个县级单位，多于 {limit} 个：未逐县写出核算表（汇总表和 GEP by region 表含每个县）；"
                           "用 gep report 运行目录 --county-sheets all 写出全部县表",
                           "{n} counties, more than {limit}: no account sheet per county was written (the summary and "
                           "the GEP-by-region sheet hold every county); gep report RUN_DIR --county-sheets all "
                           "writes them all"),
    "detail_workbook_note": ("明细表仅显示前 {shown} 行；完整明细见 tables/*.csv，或用 --detail full 写出 report_detail.xlsx",
                             "Detail sheets show their first {shown} rows; full detail in tables/*.csv, "
                             "or report_detail.xlsx with --detail full"),
    "account": ("核算总表", "GEP account"),
    "gep_by_region": ("分区域GEP", "GEP by region"),
    "gep_by_ecosystem": ("分生态系统GEP", "GEP by ecosystem type"),
    "extent": ("生态系统面积", "Ecosystem extent"),
    "services": ("服务明细", "Services detail"),
    "carbon_stock": ("碳储量", "Carbon stocks"),
    "carbon_flux": ("碳汇/碳通量", "Carbon flux"),
    "compensation_ledger": ("补偿台账", "Compensation ledger"),
    "compensation_net": ("补偿净额", "Compensation net"),
    "compensation_matrix": ("支付方×受偿方", "Payer x payee"),
    "coefficients": ("参数与来源", "Coefficients and sources"),
    "warnings": ("输入警告", "Input warnings"),
    "uncertainty": ("不确定性", "Uncertainty"),
    "sensitivity": ("敏感性", "Sensitivity"),
    "other_tables": ("其他表", "Other tables"),
    "extent_account": ("面积账户(SEEA)", "Extent account (SEEA)"),
    "seea_physical_supply": ("实物量供给表(SEEA)", "Physical supply (SEEA)"),
    "seea_monetary_supply": ("价值量供给表(SEEA)", "Monetary supply (SEEA)"),
    "supply_physical": ("实物量供给表(SEEA)", "Physical supply (SEEA)"),
    "supply_monetary": ("价值量供给表(SEEA)", "Monetary supply (SEEA)"),
    "gep_constant": ("不变价GEP", "GEP at constant prices"),
    "change_decomposition": ("变化分解", "Change decomposition"),
    "function_value": ("功能价值法", "Function-value method"),
    "gain_loss": ("增减法", "gain-loss method"),
    "gain_loss_rate": ("增减法（速率）", "gain-loss rates"),
    "stock_difference": ("储量差法", "stock-difference method"),
    "wetland_ch4": ("湿地甲烷", "wetland CH₄"),
    "equivalent_factor": ("当量因子法", "Equivalent-factor method"),
    "summary": ("概要", "Summary"),
    "map": ("单位面积GEP分布图", "GEP per km² by county"),
    "composition": ("GEP构成", "GEP composition"),
    "by_category": ("按一级类", "By category"),
    "by_service": ("按核算科目", "By service"),
    "by_ecosystem": ("按生态系统类型", "By ecosystem type"),
    "by_year": ("按年份", "By year"),
    "top_regions": ("GEP最高的区域", "Regions with the highest GEP"),
    "carbon": ("碳汇", "Carbon"),
    "stock_by_pool": ("分碳库碳储量", "Carbon stock by pool"),
    "flux_by_transition": ("分地类转换碳通量", "Carbon flux by land-cover transition"),
    "compensation": ("生态补偿", "Ecological compensation"),
    "flows": ("补偿资金流向", "Compensation flows (who pays whom)"),
    "tornado": ("敏感性龙卷风图", "Sensitivity tornado"),
    "provenance": ("来源与可追溯性", "Provenance"),
    "tables": ("数据表", "Tables"),
    "inputs": ("输入文件", "Inputs"),
    "coefficient_sets": ("参数集", "Coefficient sets"),
    "steps": ("计算步骤", "Steps"),
    "no_map": ("无区域边界，未绘制地图", "No region boundaries: map not drawn"),
    "no_data": ("无数据", "no data"),
    "truncated": ("仅显示前 {shown} 行（共 {total} 行）；完整数据见 tables/{name}.csv",
                  "Showing the first {shown} of {total} rows; full data in tables/{name}.csv"),
    "display_ratio": ("地均GEP由 total_cny ÷ 区域面积 计算，仅用于制图",
                      "GEP per km² computed as total_cny ÷ region area for the map only"),
    "sort_hint": ("点击表头排序", "Click a column header to sort"),
    # growth (增长率), intervals, tornado
    "growth": ("增长率", "Growth"),
    "period": ("时段", "Period"),
    # gep.csv indicator columns (units in the label)
    "area_km2": ("面积(km²)", "Area (km²)"),
    "gep_per_km2_cny": ("地均GEP(元/km²)", "GEP per km² (CNY/km²)"),
    "gep_cny_per_km2": ("地均GEP(元/km²)", "GEP per km² (CNY/km²)"),
    "population": ("人口(人)", "Population"),
    "gdp": ("GDP", "GDP"),
    "gep_per_capita_cny": ("人均GEP(元/人)", "GEP per person (CNY)"),
    "gep_gdp_ratio": ("GEP/GDP", "GEP/GDP"),
    "carbon_flux_summary": ("碳通量汇总", "Carbon flux summary"),
    "carbon_gep_quantities": ("固碳功能量（用于GEP）", "Carbon quantities used in GEP"),
    "carbon_parameters": ("碳汇参数", "Carbon parameters"),
    "compensation_agreements": ("补偿协议", "Compensation agreements"),
    "compensation_assessment": ("断面考核", "Monitoring assessment"),
    "transfer_efa_allocation": ("重点生态功能区转移支付分配", "Key ecological function area transfer allocation"),
    "transfer_incentive_allocation": ("因素法转移支付分配", "Factor-based transfer allocation"),
    "transfer_opportunity_cost": ("发展机会成本", "Development opportunity cost"),
    "transfer_priority": ("补偿优先级", "Compensation priority"),
    "transfer_spillover": ("生态服务溢出", "Ecosystem service spillover"),
    "uncertainty_carbon_change": ("碳储量变化不确定性", "Carbon stock change uncertainty"),
    "uncertainty_coefficients": ("不确定性参数", "Coefficients with uncertainty"),
    "(none)": ("(无生态系统类型)", "(no ecosystem type)"),
    "growth_total": ("全省合计GEP变化", "Change of total GEP"),
    "constant_prices": ("不变价，{year}年价格", "constant {year} prices"),
    "current_prices": ("现价（未扣除价格变化）", "current prices (price changes included)"),
    "growth_note": (("相邻核算年份之间的变化：变化量 = 后一年 − 前一年；变化率 = 变化量 ÷ 前一年；"
                     "年均增长率 = (后一年 ÷ 前一年)^(1/间隔年数) − 1。全省合计为各区域之和。"),
                    ("Change between consecutive accounting years: change = later − earlier; "
                     "change % = change ÷ earlier; average annual % = "
                     "(later ÷ earlier)^(1/years) − 1. Province totals are sums over the regions.")),
    "province_total": ("全省合计", "Province total"),
    "all_regions": ("全部区域", "all regions"),
    "region": ("区域", "Region"),
    "level": ("层级", "Level"),
    "year_from": ("起始年", "From year"),
    "year_to": ("终止年", "To year"),
    "value_from": ("起始年GEP", "GEP, from year"),
    "value_to": ("终止年GEP", "GEP, to year"),
    "change": ("变化量", "Change"),
    "change_pct": ("变化率", "Change"),
    "annual_pct": ("年均增长率", "Average annual growth"),
    "decomposition_chart": ("GEP变化分解（全部区域之和）", "GEP change decomposition (sum of regions)"),
    "total_change": ("总变化", "Total change"),
    "area_effect": ("面积效应", "Area effect"),
    "unit_value_effect": ("单价/系数效应", "Unit-value (price/coefficient) effect"),
    "unattributed_change": ("未分解部分", "Unattributed"),
    "decomposition_note": ("分解来自 tables/change_decomposition.csv（不变价）", "Decomposition from tables/change_decomposition.csv (constant prices)"),
    "card_interval": ("GEP 90%区间 P5–P95", "GEP 90% interval P5–P95"),
    "interval_regions": ("GEP合计 P5–P50–P95（P50最大的20个区域）",
                         "Total GEP P5–P50–P95 (20 regions with the largest P50)"),
    "interval_pools": ("碳储量 P5–P50–P95（全部区域，分碳库）",
                       "Carbon stock P5–P50–P95 (all regions, by pool)"),
    "interval_carbon_flux": ("碳汇通量 P5–P50–P95（全部区域，分组）",
                             "Carbon sink flux P5–P50–P95 (all regions, by group)"),
    "interval_carbon_flux_value": ("碳汇价值 P5–P50–P95（全部区域，分组）",
                                   "Carbon sink value P5–P50–P95 (all regions, by group)"),
    "uncertainty_carbon_flux": ("碳汇通量不确定性", "Carbon flux uncertainty"),
    "intervals_carbon_flux": ("碳汇通量区间", "Carbon flux intervals"),
    "flux_group": ("分组", "Group"),
    **{f"tornado_compensation_{i}": (f"补偿龙卷风图{i}", f"Compensation tornado {i}")
       for i in range(1, 5)},
    "step_output": ("阶跃/折线输出，无弹性", "step/kinked output, no elasticity"),
    "step_output_note": ("† 弹性为空（阶跃/折线输出）", "† elasticity empty (step/kinked output)"),
    # carbon flux groups of uncertainty_carbon_flux.csv (gep.carbon.params ecosystem groups)
    "flux_group_forest": ("森林", "forest"),
    "flux_group_grassland": ("草地", "grassland"),
    "flux_group_wetland": ("湿地", "wetland"),
    "flux_group_cropland": ("农田", "cropland"),
    "flux_group_water": ("水域", "water"),
    "flux_group_desert": ("荒漠", "desert"),
    "flux_group_glacier": ("冰川", "glacier"),
    "flux_group_all": ("合计", "all groups"),
    "tornado_low": ("参数取低值时", "coefficient at its low value"),
    "tornado_high": ("参数取高值时", "coefficient at its high value"),
    "tornado_note": ("每条：该参数在其取值范围低端/高端时的输出，其余参数取点估计；竖线为点估计",
                     ("Each bar: the output with this coefficient at the low/high end of its "
                      "range, all others at their point values; the vertical line is the point "
                      "estimate")),
    "total_p5": ("合计P5", "Total P5"),
    "point_estimate": ("点估计", "point estimate"),
    "output_at_low": ("参数取低值时的输出", "output at the low value"),
    "output_at_high": ("参数取高值时的输出", "output at the high value"),
    "coefficient": ("参数", "Coefficient"),
    "coefficient_unit": ("参数单位", "Coefficient unit"),
    "low": ("低值", "Low"),
    "high": ("高值", "High"),
    "relative_width": ("相对区间宽度 (P95−P5)/P50", "Relative width (P95−P5)/P50"),
    "intervals": ("不确定性区间", "Uncertainty intervals"),
    "tornado_sensitivity": ("龙卷风图", "Tornado"),
    "tornado_sensitivity_carbon": ("碳龙卷风图", "Carbon tornado"),
    "total_p95": ("合计P95", "Total P95"),
    "sensitivity_carbon": ("碳储量敏感性", "Carbon sensitivity"),
    "uncertainty_carbon": ("碳储量不确定性", "Carbon uncertainty"),
    # cover fields
    "field": ("项目", "Field"),
    "value": ("内容", "Value"),
    "title": ("标题", "Title"),
    "gep_version": ("gep版本", "gep version"),
    "command": ("命令", "Command"),
    "regions": ("区域", "Regions"),
    "price_base_year": ("价格基准年", "Price base year"),
    "price_year": ("价格年份", "Price year"),
    "synthetic": ("合成数据", "Synthetic data"),
    "data_label": ("数据说明", "Data label"),
    "unverified_count": ("未核实参数个数", "Unverified coefficients"),
    "unverified_flag": ("⚠ 未核实", "⚠ unverified"),
    "unverified_note": ("标记为“未核实”的参数尚未与原始文献核对，结果仅供参考",
                        ("Coefficients flagged 'unverified' have not been checked against "
                         "the original source; treat results that use them as indicative")),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # account columns (Chinese county layout)
    "region_id": ("区域代码", "Region code"),
    "region_name": ("区域名称", "Region"),
    "year": ("年份", "Year"),
    "method": ("核算方法", "Method"),
    "category": ("一级类", "Category"),
    "service": ("核算科目", "Service"),
    "quantity": ("功能量", "Quantity"),
    "unit": ("单位", "Unit"),
    "pricing_method": ("定价方法", "Pricing method"),
    "price": ("单价", "Unit price"),
    "price_unit": ("单价单位", "Price unit"),
    "value_wan": ("价值量(万元)", "Value (10k CNY)"),
    "value_cny": ("价值量(元)", "Value (CNY)"),
    "share": ("占比", "Share"),
    "source": ("数据来源", "Source"),
    "subtotal": ("小计", "Subtotal"),
    "total": ("合计", "Total"),
    "gep_total": ("GEP合计", "GEP total"),
    "ecosystem_type": ("生态系统类型", "Ecosystem type"),
    "payer": ("支付方", "Payer"),
    "payee": ("受偿方", "Payee"),
    "amount_cny": ("金额(元)", "Amount (CNY)"),
    "code": ("代码", "Code"),
    "message": ("说明", "Message"),
    "file": ("文件", "File"),
    "row": ("行", "Row"),
    "column": ("列", "Column"),
    "rows": ("行数", "Rows"),
    "name": ("名称", "Name"),
    "path": ("路径", "Path"),
    "role": ("用途", "Role"),
    "bytes": ("字节", "Bytes"),
    "version": ("版本", "Version"),
    "verification": ("核实状态", "Verification"),
    "overrides": ("覆盖", "Overrides"),
    "citation": ("引用文献", "Citation"),
    # cards
    "card_gep": ("GEP总值", "Total GEP"),
    "card_regions": ("区域数", "Regions"),
    "card_per_km2": ("地均GEP", "GEP per km²"),
    "card_carbon": ("碳汇(CO₂e)", "Carbon sink (CO₂e)"),
    "card_compensation": ("补偿资金(净额划转)", "Compensation paid (net transfers)"),
    "card_compensation_pool": ("经资金池记账", "Booked through pooled funds"),
    "settlement_sheet": ("清算单", "Settlement sheet"),
    "compensation_net_years": ("补偿净额 按年度 (元)", "Compensation net by year (CNY)"),
    "compensation_net_by_year": ("分年度补偿净额", "Compensation net by year"),
    "compensation_settlement": ("支付指令与到期", "Payment instructions and due dates"),
    "card_unverified": ("未核实参数", "Unverified coefficients"),
    "yi_yuan": ("亿元", "100M CNY"),
    "wan_yuan": ("万元", "10k CNY"),
    "wan_yuan_per_km2": ("万元/km²", "10k CNY/km²"),
    "t_co2e": ("t CO₂e", "t CO₂e"),
    "yuan": ("元", "CNY"),
    # categories
    "provisioning": ("物质产品", "Provisioning"),
    "regulating": ("调节服务", "Regulating"),
    "cultural": ("文化服务", "Cultural"),
    "supporting": ("支持服务", "Supporting"),
    "imported_deduction": ("扣减：区外调入生态产品", "Less: ecosystem products from outside"),
    "extent_change_matrix": ("生态系统类型变化矩阵", "Ecosystem type change matrix"),
    "change_matrix": ("类型变化矩阵", "Type change matrix"),
    "change_matrix_title": ("生态系统类型变化矩阵（全部区域之和，公顷）：行 = 期初类型，列 = 期末类型",
                            "Ecosystem type change matrix (sum of regions, ha): rows = opening type, columns = closing type"),
    "opening_closing": ("期初 \\ 期末", "opening \\ closing"),
    # services (common codes; anything else is shown as written)
    "food_production": ("食物生产", "Food production"),
    "raw_materials": ("原料生产", "Raw materials"),
    "raw_material": ("原料生产", "Raw materials"),
    "water_supply": ("水资源供给", "Water supply"),
    "gas_regulation": ("气体调节", "Gas regulation"),
    "climate_regulation": ("气候调节", "Climate regulation"),
    "environmental_purification": ("净化环境", "Environmental purification"),
    "purify_environment": ("净化环境", "Environmental purification"),
    "hydrological_regulation": ("水文调节", "Hydrological regulation"),
    "soil_conservation": ("土壤保持", "Soil conservation"),
    "soil_retention": ("土壤保持", "Soil retention"),
    "nutrient_cycling": ("维持养分循环", "Nutrient cycling"),
    "biodiversity": ("生物多样性", "Biodiversity"),
    "aesthetic_landscape": ("美学景观", "Aesthetic landscape"),
    "water_conservation": ("水源涵养", "Water conservation"),
    "water_retention": ("水源涵养", "Water retention"),
    "sandstorm_prevention": ("防风固沙", "Sandstorm prevention"),
    "windbreak_sand_fixation": ("防风固沙", "Windbreak and sand fixation"),
    "flood_regulation": ("洪水调蓄", "Flood regulation"),
    "carbon_sequestration": ("固碳", "Carbon sequestration"),
    "carbon_fixation": ("固碳", "Carbon fixation"),
    "oxygen_release": ("释氧", "Oxygen release"),
    "air_purification": ("空气净化", "Air purification"),
    "water_purification": ("水质净化", "Water purification"),
    "recreation": ("休闲旅游", "Recreation and tourism"),
    "tourism": ("休闲旅游", "Recreation and tourism"),
    "landscape_value": ("景观价值", "Landscape value"),
    # services of the Xie 2003 / 2008 tables (sets xie2003, xie2008)
    "waste_treatment": ("废物处理", "Waste treatment"),
    "soil_formation_protection": ("土壤形成与保护", "Soil formation and protection"),
    "biodiversity_protection": ("生物多样性保护", "Biodiversity protection"),
    "recreation_culture": ("娱乐文化", "Recreation and culture"),
    # carbon pools
    "above": ("地上生物量", "Above-ground biomass"),
    "below": ("地下生物量", "Below-ground biomass"),
    "soil": ("土壤", "Soil"),
    "dead": ("死有机质", "Dead organic matter"),
    "c_above": ("地上生物量", "Above-ground biomass"),
    "c_below": ("地下生物量", "Below-ground biomass"),
    "c_soil": ("土壤有机碳", "Soil organic carbon"),
    "c_dead": ("死有机质", "Dead organic matter"),
}


def _add_catalog_names() -> None:
    """Add the catalog's service names and the ecosystem types' English names (not above)."""
    try:

        tables = [catalog.FUNCTION_VALUE_SERVICES, catalog.EQUIVALENT_FACTOR_SERVICES]
    except (ImportError, AttributeError):  # no catalog: the dictionary above suffices
        tables = []
    for table in tables:
        for code, (zh, _category) in table.items():
            LABELS.setdefault(code, (zh, code.replace("_", " ").capitalize()))
    try:

        types = ecosystem_types()
    except (ImportError, OSError, ValueError):
        return
    if {"ecosystem_type", "name_en"} <= set(types.columns):
        for zh, en in types.select("ecosystem_type", "name_en").rows():
            if zh and en:
                LABELS.setdefault(str(zh), (str(zh), str(en)))


_add_catalog_names()


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of ``zh``, ``en``, ``zh-en``; raise ValueError otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def label(key: str, lang: str, **fmt: object) -> str:
    """Label text for ``key`` in ``lang``; unknown keys are returned unchanged (engine codes)."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    zh, en = pair
    if fmt:
        zh, en = zh.format(**fmt), en.format(**fmt)
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return zh if zh == en else f"{zh} / {en}"


def sheet_label(key: str, lang: str) -> str:
    """A short label for an Excel sheet name (no '/', at most 31 characters with its number)."""
    text = label(key, lang)
    if lang == "zh-en" and len(text) > 27 and key in LABELS:
        text = LABELS[key][0]  # bilingual name would be cut: the Chinese name alone
    return text.replace(" / ", " ").replace("/", " ").replace("×", "x")[:27]


# GB/T 2260 province-level codes (first two digits) → (zh, en): names for "XX0000" ids
# that the run's regions registry does not hold (e.g. the other provinces of a
# cross-provincial compensation agreement).
PROVINCES: Final[dict[str, tuple[str, str]]] = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"), "15": ("内蒙古自治区", "Inner Mongolia"),
    "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"), "23": ("黑龙江省", "Heilongjiang"),
    "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"), "33": ("浙江省", "Zhejiang"),
    "34": ("安徽省", "Anhui"), "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"),
    "43": ("湖南省", "Hunan"), "44": ("广东省", "Guangdong"),
    "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"), "50": ("重庆市", "Chongqing"),
    "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"), "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Xizang"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"),
    "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
}


def with_province_names(names: dict[str, str], ids: list[str], lang: str) -> dict[str, str]:
    """``names`` plus GB/T 2260 province names for ids "XX0000" it lacks (zh, or en for en)."""
    out = dict(names)
    for rid in ids:
        if rid not in out and len(rid) == 6 and rid.endswith("0000") and rid[:2] in PROVINCES:
            zh, en = PROVINCES[rid[:2]]
            out[rid] = en if lang == "en" else zh
    return out
