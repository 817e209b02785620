"""What each handling unit records when it handles a case, beside the common handling fields.

One declarative spec per stationed department (keyed by its org unit code), one for the people's
mediation bodies (committees and studios), one for townships and one for villages. The handling form is
built from the spec and the ``handle`` step validates the same spec, so the two never drift apart.
Sources: reference/domain.md (信访工作条例 §17, §29-32; 劳动争议调解仲裁法; 道路交通事故处理程序规定;
市场监督管理投诉举报处理暂行办法; 医疗纠纷预防和处理条例; 人民调解协议书 and 结案报告表 fields).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import Case, HandlingResult, OrgKind, OrgUnit
from portal.services.deadlines import local_today
from portal.services.errors import ValidationFailed


class FieldType(Enum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"    # yuan, two decimals
    DATE = "date"      # a day that has already come (nothing recorded here lies in the future)
    CHOICE = "choice"


@dataclass(frozen=True)
class DeptField:
    name: str
    label: Any                      # lazy translatable text
    type: FieldType
    required: bool = False
    required_for: tuple[HandlingResult, ...] = ()   # required only for these handling results
    choices: tuple[tuple[str, Any], ...] = ()
    min: int | None = None
    max: int | None = None          # for text: the longest value in characters
    help: Any = None

    def is_required(self, result: HandlingResult | None) -> bool:
        return self.required or (result is not None and result in self.required_for)


@dataclass(frozen=True)
class DeptSpec:
    key: str
    title: Any
    fields: tuple[DeptField, ...] = ()


T, INT, MONEY, DATE, CHOICE = FieldType.TEXT, FieldType.INT, FieldType.MONEY, FieldType.DATE, FieldType.CHOICE
WRITTEN = (HandlingResult.WRITTEN_AGREEMENT,)
TEXT_MAX = 200

# Fields several units share.
AGREEMENT_NO = DeptField("agreement_no", _l("Mediation agreement number"), T, required_for=WRITTEN, max=60,
                         help=_l("Required for a written agreement, e.g. (2026)示人调字第12号"))
CASE_SOURCE = DeptField("case_source", _l("How the case came to mediation"), CHOICE, required=True, choices=(
    ("application", _l("Application by a party")), ("own_initiative", _l("Mediation on the body's own initiative")),
    ("police", _l("Handed over by the police")), ("court", _l("Entrusted by the court")),
    ("government", _l("Designated by a government body"))))
AGREEMENT_AMOUNT = DeptField("agreement_amount", _l("Amount in the agreement (yuan)"), MONEY, min=0, max=10**9)
LEADER_IN_CHARGE = DeptField("leader_in_charge", _l("Leader in charge of the case (包案领导)"), T, max=60)
GRID_MEMBERS = DeptField("grid_members", _l("Grid members who took part"), T)
EMPLOYER = DeptField("employer_name", _l("Employer"), T, required=True)
WORKERS = DeptField("workers_involved", _l("Workers involved"), INT, required=True, min=1, max=100000)
WAGES_OWED = DeptField("wages_owed", _l("Wages owed (yuan)"), MONEY, required=True, min=0, max=10**9)
HOUSEHOLDS = DeptField("households", _l("Households involved"), INT, min=1, max=100000)
AMOUNT_DISPUTED = DeptField("amount_disputed", _l("Amount in dispute (yuan)"), MONEY, min=0, max=10**9)
AREA_MU = DeptField("area_mu", _l("Area involved (mu)"), INT, min=0, max=10**7)

DEPARTMENT_SPECS: dict[str, DeptSpec] = {spec.key: spec for spec in (
    DeptSpec("D01", _l("Stability risk (综治)"), (
        DeptField("warning_level", _l("Warning level"), CHOICE, required=True, choices=(
            ("red", _l("Red: report at once")), ("orange", _l("Orange: deal with it the same day")),
            ("yellow", _l("Yellow: resolve on the spot")))),
        DeptField("stability_unit", _l("Unit responsible for stability"), T, required=True),
        DeptField("stability_person", _l("Person responsible for stability"), T, required=True, max=60),
        LEADER_IN_CHARGE,
        DeptField("units_coordinated", _l("Units that worked together"), T))),
    DeptSpec("D02", _l("Petition (信访)"), (
        DeptField("petition_form", _l("Form of the petition"), CHOICE, required=True, choices=(
            ("letter", _l("Letter")), ("visit", _l("Visit in person")), ("online", _l("Online petition")),
            ("phone", _l("Phone call")), ("fax", _l("Fax")))),
        DeptField("petition_category", _l("Kind of request"), CHOICE, required=True, choices=(
            ("suggestion", _l("Suggestion or opinion")), ("accusation", _l("Report or accusation")),
            ("claim", _l("Complaint or claim")))),
        DeptField("petition_opinion", _l("Handling opinion"), CHOICE, required=True, choices=(
            ("support", _l("Supported")), ("explain", _l("Explained")), ("not_supported", _l("Not supported"))),
            help=_l("信访工作条例 §32: support, explain, or not support, with the reasons and the basis.")),
        DeptField("visitors", _l("People who came"), INT, min=1, max=10000),
        DeptField("reply_no", _l("Number of the written reply (处理意见书)"), T, max=60))),
    DeptSpec("D03", _l("Justice bureau"), (
        replace(AGREEMENT_NO, required_for=(), help=_l("e.g. (2026)示人调字第12号")),
        DeptField("legal_aid", _l("Legal aid"), CHOICE, choices=(
            ("not_needed", _l("Not needed")), ("informed", _l("Told how to apply")),
            ("applied", _l("Application taken")), ("granted", _l("Granted, lawyer assigned")))))),
    DeptSpec("D04", _l("Court-linked mediation"), (
        DeptField("court_stage", _l("Stage"), CHOICE, required=True, choices=(
            ("pre_filing", _l("Delegated before filing")), ("entrusted", _l("Entrusted after filing")),
            ("guidance", _l("Litigation guidance only")))),
        DeptField("cause_of_action", _l("Cause of action (案由)"), T, required=True, max=60),
        DeptField("court_ref_no", _l("Court case number"), T, max=60,
                  help=_l("e.g. (2026)示0101民诉前调123号")))),
    DeptSpec("D05", _l("Road traffic accident"), (
        DeptField("accident_report_no", _l("Accident finding number (事故认定书)"), T, required=True, max=60),
        DeptField("loss_amount", _l("Losses (yuan)"), MONEY, required=True, min=0, max=10**9),
        DeptField("injured", _l("People injured"), INT, required=True, min=0, max=1000),
        DeptField("killed", _l("People killed"), INT, min=0, max=1000),
        DeptField("insurer", _l("Insurance company"), T, max=100))),
    DeptSpec("D06", _l("Labour dispute"), (
        EMPLOYER, WAGES_OWED,
        DeptField("months_owed", _l("Months of wages owed"), INT, required=True, min=0, max=240),
        WORKERS,
        DeptField("labour_route", _l("Route"), CHOICE, required=True, choices=(
            ("arbitration", _l("Labour dispute arbitration")), ("inspection", _l("Labour inspection")),
            ("mediation", _l("Mediation")))))),
    DeptSpec("D07", _l("Consumer complaint"), (
        DeptField("business_name", _l("Business complained about"), T, required=True),
        DeptField("consumer_matter", _l("Subject of the complaint"), CHOICE, required=True, choices=(
            ("goods", _l("Quality of goods")), ("service", _l("Services")), ("prepaid", _l("Prepaid card")),
            ("food", _l("Food safety")))),
        DeptField("amount_claimed", _l("Amount claimed (yuan)"), MONEY, required=True, min=0, max=10**9),
        DeptField("accepted_on", _l("Complaint accepted on"), DATE, required=True,
                  help=_l("Mediation fails if there is no agreement within 45 working days of acceptance.")),
        DeptField("refund_amount", _l("Refund or compensation agreed (yuan)"), MONEY, min=0, max=10**9))),
    DeptSpec("D08", _l("Land and resource ownership"), (
        DeptField("ownership_kind", _l("Right in dispute"), CHOICE, required=True, choices=(
            ("land_ownership", _l("Land ownership")), ("land_use", _l("Land use right")),
            ("homestead", _l("Homestead use right")))),
        DeptField("parcel", _l("Plot and where it lies"), T, required=True),
        DeptField("area_sqm", _l("Area in dispute (square metres)"), INT, required=True, min=1, max=10**8),
        DeptField("title_no", _l("Title certificate number"), T, max=60))),
    DeptSpec("D09", _l("Rural land contracting"), (
        DeptField("land_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("contract", _l("Land contracting")), ("transfer", _l("Transfer of the land management right")),
            ("collective_assets", _l("Collective funds, assets and resources")), ("farm_inputs", _l("Farm inputs")))),
        replace(HOUSEHOLDS, required=True), AREA_MU,
        DeptField("contract_no", _l("Contract or certificate number"), T, max=60))),
    DeptSpec("D10", _l("Housing and property management"), (
        DeptField("housing_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("property_service", _l("Property services")), ("property_fee", _l("Property fees")),
            ("maintenance_fund", _l("Maintenance fund")), ("sale", _l("Sale of a home")),
            ("construction", _l("Construction works")))),
        DeptField("project_name", _l("Estate or project"), T, required=True), HOUSEHOLDS, AMOUNT_DISPUTED)),
    DeptSpec("D11", _l("Medical dispute"), (
        DeptField("institution", _l("Medical institution"), T, required=True),
        DeptField("appraisal", _l("Medical damage appraisal"), CHOICE, required=True, choices=(
            ("none", _l("Not applied for")), ("pending", _l("Appraisal under way")), ("done", _l("Appraisal done"))),
            help=_l("The time of the appraisal is not counted in the 30 working days.")),
        DeptField("compensation", _l("Compensation agreed (yuan)"), MONEY, min=0, max=10**9))),
    DeptSpec("D12", _l("Road transport"), (
        DeptField("operator_name", _l("Transport operator"), T, required=True),
        DeptField("transport_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("passenger", _l("Road passenger transport")), ("taxi", _l("Taxi")),
            ("freight", _l("Road freight")), ("works", _l("Transport works")))),
        DeptField("plate_no", _l("Vehicle plate number"), T, max=20), AMOUNT_DISPUTED)),
    DeptSpec("D13", _l("Civil affairs"), (
        DeptField("civil_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("marriage_family", _l("Marriage and family")), ("assistance", _l("Social assistance")),
            ("elderly_care", _l("Care for the elderly")), ("funeral", _l("Funeral services")))),
        DeptField("assistance_referral", _l("Referred for assistance"), CHOICE, choices=(
            ("temporary", _l("Temporary assistance")), ("subsistence", _l("Minimum living allowance")),
            ("destitute", _l("Support for the destitute")))))),
    DeptSpec("D14", _l("Environmental pollution"), (
        DeptField("pollution_kind", _l("Kind of pollution"), CHOICE, required=True, choices=(
            ("air", _l("Air")), ("water", _l("Water")), ("noise", _l("Noise")), ("waste", _l("Solid waste")),
            ("soil", _l("Soil")))),
        DeptField("polluter", _l("Source of the pollution"), T, required=True),
        DeptField("monitoring_no", _l("Monitoring report number"), T, max=60), HOUSEHOLDS)),
    DeptSpec("D15", _l("Education"), (
        DeptField("school", _l("School"), T, required=True),
        DeptField("education_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("injury", _l("Injury to a student")), ("safety", _l("Safety at school")),
            ("fees", _l("School fees")), ("other", _l("Other")))),
        DeptField("students", _l("Students involved"), INT, min=1, max=100000))),
    DeptSpec("D16", _l("Veterans"), (
        DeptField("veteran_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("placement", _l("Placement")), ("benefits", _l("Preferential treatment and pensions")),
            ("employment", _l("Employment and business start-up")), ("other", _l("Other")))),
        DeptField("veterans", _l("Veterans involved"), INT, min=1, max=100000))),
    DeptSpec("D17", _l("Water affairs"), (
        DeptField("water_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("water_use", _l("Water use")), ("works", _l("Water works")), ("sand", _l("Sand mining in the river")),
            ("boundary", _l("Water boundary")))),
        DeptField("water_body", _l("River, canal or works"), T, required=True))),
    DeptSpec("D18", _l("Forestry"), (
        DeptField("forest_matter", _l("Matter"), CHOICE, required=True, choices=(
            ("ownership", _l("Ownership of trees and forest land")), ("contract", _l("Contracting of forest land")),
            ("felling", _l("Felling")), ("damage", _l("Damage to the forest")))),
        DeptField("forest_cert_no", _l("Forest right certificate number"), T, max=60), AREA_MU)),
    DeptSpec("D19", _l("Workers' rights (trade union)"), (
        EMPLOYER, WORKERS,
        DeptField("union_status", _l("Trade union at the employer"), CHOICE, required=True, choices=(
            ("union", _l("Has a trade union")), ("no_union", _l("No trade union yet")))),
        replace(WAGES_OWED, required=False))),
)}

PEOPLES_MEDIATION = DeptSpec("peoples", _l("People's mediation"), (AGREEMENT_NO, CASE_SOURCE, AGREEMENT_AMOUNT))
KIND_SPECS: dict[OrgKind, DeptSpec] = {
    OrgKind.COMMITTEE: PEOPLES_MEDIATION,
    OrgKind.STUDIO: PEOPLES_MEDIATION,
    OrgKind.TOWNSHIP: DeptSpec("township", _l("Township"), (AGREEMENT_NO, LEADER_IN_CHARGE, GRID_MEMBERS)),
    OrgKind.VILLAGE: DeptSpec("village", _l("Village"), (
        AGREEMENT_NO, GRID_MEMBERS, DeptField("village_group", _l("Villagers' group"), T, max=60))),
}
GENERIC = DeptSpec("generic", _l("Handling"))
SPECS: dict[str, DeptSpec] = {**DEPARTMENT_SPECS, **{s.key: s for s in KIND_SPECS.values()}, GENERIC.key: GENERIC}


def spec_for_unit(unit: OrgUnit | None) -> DeptSpec:
    """The spec of a handling unit: by its code, else by its kind, else the generic one (no extra fields)."""
    if unit is None:
        return GENERIC
    return DEPARTMENT_SPECS.get(unit.code) or KIND_SPECS.get(unit.kind) or GENERIC


def _failed(message, f: DeptField, **params) -> ValidationFailed:
    return ValidationFailed(message, field=f.name, label=f.label, **params)


def _number(value, kind):
    if isinstance(value, bool):
        raise ValueError
    if kind is int:
        if isinstance(value, Decimal | float) and value != int(value):
            raise ValueError
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError
    return number.quantize(Decimal("0.01"))


def _check_range(f: DeptField, number) -> None:
    if f.min is not None and number < f.min:
        raise _failed(_l("%(label)s: must be at least %(min)s."), f, min=f.min)
    if f.max is not None and number > f.max:
        raise _failed(_l("%(label)s: must be at most %(max)s."), f, max=f.max)


def _clean_value(f: DeptField, value) -> Any:
    """The value as stored (JSON-safe), or a ValidationFailed naming the field."""
    if f.type == FieldType.TEXT:
        text = str(value).strip()
        if len(text) > (f.max or TEXT_MAX):
            raise _failed(_l("%(label)s: at most %(max)s characters."), f, max=f.max or TEXT_MAX)
        return text
    if f.type == FieldType.CHOICE:
        if str(value) not in {key for key, _label in f.choices}:
            raise _failed(_l("%(label)s: choose a valid value."), f)
        return str(value)
    if f.type == FieldType.DATE:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        except ValueError:
            raise _failed(_l("%(label)s: give a date (YYYY-MM-DD)."), f) from None
        if day > local_today():
            raise _failed(_l("%(label)s: the date cannot be in the future."), f)
        return day.isoformat()
    try:
        number = _number(value, int if f.type == FieldType.INT else Decimal)
    except (ValueError, TypeError, InvalidOperation):
        message = _l("%(label)s: give a whole number.") if f.type == FieldType.INT \
            else _l("%(label)s: give an amount in yuan, e.g. 1200.50.")
        raise _failed(message, f) from None
    _check_range(f, number)
    return number if f.type == FieldType.INT else str(number)


def clean_details(spec: DeptSpec, data: dict[str, Any], result: HandlingResult | None) -> dict[str, Any]:
    """The unit's own fields from the submitted data, checked against its spec; missing or malformed
    values raise ValidationFailed naming the field. ``data`` gets the cleaned values (for the step's record)."""
    values: dict[str, Any] = {}
    for f in spec.fields:
        raw = data.get(f.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if f.is_required(result):
                raise _failed(_l("%(label)s: this field is required."), f)
            continue
        values[f.name] = data[f.name] = _clean_value(f, raw)
    return values


def record_details(case: Case, data: dict[str, Any], result: HandlingResult) -> None:
    """Check the handling unit's own fields and keep them on the case (``Case.dept_details``)."""
    spec = spec_for_unit(case.assigned_unit)
    values = clean_details(spec, data, result)
    case.dept_details = json.dumps({"spec": spec.key, "values": values}, ensure_ascii=False) if values else None


def _shown(f: DeptField, value) -> str:
    if f.type == FieldType.CHOICE:
        return next((str(label) for key, label in f.choices if key == value), str(value))
    return str(value)


def detail_rows(case: Case) -> tuple[Any, list[tuple[str, str]]]:
    """(the spec's title, [(label, shown value)]) of what the handling unit recorded on the case."""
    if not case.dept_details:
        return None, []
    stored = json.loads(case.dept_details)
    spec = SPECS.get(stored.get("spec"), GENERIC)
    values = stored.get("values") or {}
    return spec.title, [(str(f.label), _shown(f, values[f.name])) for f in spec.fields if f.name in values]
