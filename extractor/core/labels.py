"""The Chinese words people read for the record's codes: one table for the whole package.

Codes stay English in the data; reviewers, exports and prompts see these labels. Where two
audiences are meant to read different words for the same code (the review screen's
主要成效 and a sheet name's 成效; the model's 成效（achievements）), both live here under
names that say who reads them.
"""

from __future__ import annotations

from extractor.core.schema import FlagCode, ListName

#: Each list as the review screen and the audit log name it.
LIST_LABELS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "主要成效",
    ListName.PROBLEMS: "存在不足",
    ListName.PLANS: "下步计划",
}
#: Each list in one word: the source highlight legend and the export's sheet names / list column.
LIST_SHORT_LABELS: dict[ListName, str] = {
    ListName.ACHIEVEMENTS: "成效",
    ListName.PROBLEMS: "不足",
    ListName.PLANS: "计划",
}
#: The kind of section a model call is given, as the prompt names it (None: a report with no
#: sections, extracted freely). The English in brackets matches the response model's lists.
PROMPT_SECTION_LABELS: dict[ListName | None, str] = {
    ListName.ACHIEVEMENTS: "成效（achievements）",
    ListName.PROBLEMS: "问题（problems）",
    ListName.PLANS: "计划（plans）",
    None: "全文（无结构）",
}

#: A stored record's review status (`extractor.store.tables.ReviewStatus`).
STATUS_LABELS: dict[str, str] = {
    "pending": "待审核",
    "in_review": "审核中",
    "approved": "已通过",
    "rejected": "已退回",
}
#: Shown for a stored document that has no record yet.
NO_RECORD_LABEL = "无记录"

#: Who wrote a record version (`extractor.store.tables.VersionKind`): the extractor or a reviewer.
VERSION_KIND_LABELS: dict[str, str] = {"extraction": "自动抽取", "review": "人工审核"}

#: What each flag asks the reviewer to check.
FLAG_LABELS: dict[FlagCode, str] = {
    FlagCode.UNALIGNED: "证据未在原文中找到",
    FlagCode.FUZZY_ALIGNMENT: "证据与原文仅近似匹配",
    FlagCode.METRIC_NOT_IN_EVIDENCE: "指标数值不在其证据中",
    FlagCode.SECTION_FALLBACK: "模型调用失败，已用规则结果",
    FlagCode.AREA_DISAGREES: "规则与模型判断的领域不一致",
    FlagCode.AREA_MODEL_DISAGREES: "领域分类器与模型判断的领域不一致",
    FlagCode.BOUNDARY_DISAGREES: "规则与模型划分的条目边界不一致",
    FlagCode.METRICS_DISAGREE: "规则与模型抽取的指标不一致",
    FlagCode.METRIC_REPEATED: "前面的条目已陈述同一数量，可能重复计数",
    FlagCode.METRIC_INTENDED: "指标以“拟”“预计”等表述，可能是目标而非成效",
    FlagCode.METRIC_COUNTS_A_SET: "指标计数的是“方面”“举措”等归类，可能不是成效数量",
    FlagCode.VALIDATION_FAILED: "校验未通过",
    FlagCode.OUTLINE_CHANGED: "模型调整了该条目的结构划分",
    FlagCode.CAUSE_BLOCK_UNUSED: "原文单列了原因分析，但没有任何问题被归入原因",
    FlagCode.CAUSE_UNSUPPORTED: "原因在原文中找不到依据",
    FlagCode.META_UNSUPPORTED: "模型给出的基本信息原文未写明，已用规则结果",
    FlagCode.MODEL_LEFT_OUT: "规则发现、模型未采纳的条目",
    FlagCode.AREA_DEFAULT: "未匹配领域关键词，领域为默认“其他”",
    FlagCode.AREA_UNCERTAIN: "领域关键词接近，领域判断不确定",
    FlagCode.METRICS_DENSE: "段落较长且数字较多，指标可能有遗漏或多余",
    FlagCode.NO_SECTION_HEADING: "所在部分没有标题",
    FlagCode.UNMARKED_POINT: "条目没有编号，按段落划分",
}

#: Record fields (and steps of a diff path) as the audit log names them.
FIELD_LABELS: dict[str, str] = {
    "meta": "基本信息",
    "issuer": "发布机关",
    "region": "地区",
    "report_year": "报告年度",
    "period": "期间",
    "plan_year": "计划年度",
    "publish_date": "发布日期",
    "doc_id": "报告编号",
    "schema_version": "格式版本",
    "area": "领域",
    "text": "摘要",
    "evidence": "证据",
    "cause": "原因",
    "metrics": "指标",
    "flags": "待核查标记",
    "span": "位置",
    "alignment": "定位方式",
    "name": "名称",
    "value": "数值",
    "unit": "单位",
}
