"""The form an administrator fills in to let another system use the API."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms.aid.common import CheckboxList
from portal.forms.validators import int_or_none
from portal.models import ApiScope
from portal.roles import ROLES


class ApiClientForm(FlaskForm):
    name = StringField(_l("System name"), [DataRequired(), Length(max=100)], widget=BS3TextFieldWidget(),
                       description=_l("e.g. 12345政务服务便民热线, 县人民法院诉讼服务平台"))
    role_name = SelectField(_l("Acts as"), [InputRequired()], widget=Select2Widget(),
                            choices=lambda: [(r.name, r.label) for r in ROLES],
                            description=_l("The role whose steps it may complete and whose cases it may read, "
                                           "e.g. the intake window for the hotline, a department handler for "
                                           "the court's unit."))
    org_unit_id = SelectField(_l("Works for the unit"), [InputRequired()], coerce=int_or_none, widget=Select2Widget())
    township_id = SelectField(_l("Only the cases of the township"), [Optional()], coerce=int_or_none,
                              widget=Select2Widget(),
                              description=_l("Leave empty for every case its role and unit see."))
    scopes = CheckboxList(_l("Allowed operations"), [DataRequired()],
                          choices=lambda: [(s.value, s.label) for s in ApiScope])

    def set_choices(self, units, townships) -> None:
        self.org_unit_id.choices = [(u.id, f"{u.name}（{u.code}）") for u in units]
        self.township_id.choices = [("", "—")] + [(t.id, t.name) for t in townships]
