"""Settings pages for administrators: deadline rules and hand-set calendar days."""
from flask import abort, request
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput

from portal.models import CalendarDay, CardLevel, Complexity, DeadlineRule, SupervisionRule
from portal.workdays import DayUnit

UNIT_LABELS = {DayUnit.CALENDAR: _l("Calendar days"), DayUnit.WORKING: _l("Working days")}


def _enum_field(enum_cls, label, labels):
    """A select for an enum column stored by value (FAB's own enum field expects names)."""
    return SelectField(label, [InputRequired()], choices=[(m.value, labels[m]) for m in enum_cls],
                       coerce=lambda v: v if isinstance(v, enum_cls) else enum_cls(v), widget=Select2Widget())


def _enum_fields():
    return {"complexity": _enum_field(Complexity, _l("Complexity"), Complexity.LABELS()),
            "unit": _enum_field(DayUnit, _l("Counted in"), UNIT_LABELS)}


class SettingsModelView(ModelView):
    """FAB's bulk-action route checks no permission of its own before it looks the action up;
    here it needs the view's ``action_post`` permission like every other route."""

    @expose("/action_post", methods=["POST"])
    @has_access
    def action_post(self):
        if request.form.get("action") not in self.actions:  # FAB would fail on an unknown action
            abort(400)
        return super().action_post()


class DeadlineRuleView(SettingsModelView):
    datamodel = SQLAInterface(DeadlineRule)
    list_title = show_title = _l("Deadline rules")
    add_title = _l("Add a deadline rule")
    edit_title = _l("Edit a deadline rule")
    list_columns = ["dispute_type", "complexity", "days", "unit", "note"]
    add_columns = edit_columns = show_columns = ["dispute_type", "complexity", "days", "unit", "note"]
    label_columns = {"dispute_type": _l("Dispute type (empty: county default)"), "complexity": _l("Complexity"),
                     "days": _l("Days"), "unit": _l("Counted in"), "note": _l("Note")}
    formatters_columns = {"complexity": lambda v: Complexity(getattr(v, "value", v)).label,
                          "unit": lambda v: UNIT_LABELS[DayUnit(getattr(v, "value", v))]}
    search_columns = ["dispute_type", "days", "note"]
    add_form_extra_fields = edit_form_extra_fields = _enum_fields()
    description_columns = {"days": _l("0 means the same day (handled on the spot)."),
                           "unit": _l("calendar: calendar days, a deadline on a rest day moves to the next "
                                      "working day; working: working days only")}


class CalendarDayView(SettingsModelView):
    datamodel = SQLAInterface(CalendarDay)
    list_title = show_title = _l("Calendar days set by hand")
    add_title = _l("Add a calendar day")
    edit_title = _l("Edit a calendar day")
    list_columns = add_columns = edit_columns = show_columns = ["day", "is_workday", "note"]
    search_columns = ["day", "note"]
    # A false tick is a valid answer; FAB would make the non-null column "required".
    add_form_extra_fields = edit_form_extra_fields = {
        "is_workday": BooleanField(_l("Working day"), default=False, widget=CheckboxInput())}
    label_columns = {"day": _l("Day"), "is_workday": _l("Working day"), "note": _l("Note")}
    description_columns = {"is_workday": _l("Tick for a make-up working day (调休); leave empty for a holiday.")}
    base_order = ("day", "desc")


class SupervisionRuleView(SettingsModelView):
    datamodel = SQLAInterface(SupervisionRule)
    list_title = show_title = _l("Supervision card thresholds")
    edit_title = _l("Edit a supervision threshold")
    list_columns = show_columns = ["level", "offset_hours", "note"]
    edit_columns = ["offset_hours", "note"]  # the three levels are fixed; only their timing is set here
    base_permissions = ["can_list", "can_show", "can_edit"]
    search_columns = ["note"]
    label_columns = {"level": _l("Card"), "offset_hours": _l("Hours after the deadline"), "note": _l("Note")}
    description_columns = {"offset_hours": _l("Negative: before the deadline (e.g. -24 raises it a day before).")}
    formatters_columns = {"level": lambda v: CardLevel(getattr(v, "value", v)).label}


class PortalSettingsView(BaseView):
    """The values of the assistance processes an administrator sets (offices, wage base, limits)."""

    route_base = "/settings/values"
    default_view = "values"
    class_permission_name = "PortalSettings"
    method_permission_name = {"values": "edit"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def values(self):
        from flask import flash, g, redirect, url_for
        from flask_babel import gettext as _

        from portal.services.errors import DomainError
        from portal.services.settings import set_setting, setting_rows
        status = 200
        if request.method == "POST":
            key = request.form.get("key", "")
            try:
                set_setting(g.user, key, request.form.get("value", ""))
            except DomainError as exc:
                flash(str(exc), "danger")
                status = exc.status_code
            else:
                flash(_("Setting saved."), "success")
                return redirect(url_for("PortalSettingsView.values"))
        return self.render_template("portal/settings_values.html", rows=setting_rows()), status
