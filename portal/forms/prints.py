"""Batch printing of dossiers."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Regexp

from portal.forms.validators import int_or_none


class BatchPrintForm(FlaskForm):
    month = StringField(_l("Month"), [InputRequired(),
                                      Regexp(r"^\d{4}-\d{2}$", message=_l("Give the month as YYYY-MM."))],
                        render_kw={"type": "month", "class": "form-control"})
    township_id = SelectField(_l("Township"), coerce=int_or_none, widget=Select2Widget())
    scope = RadioField(_l("Which cases"), [InputRequired()], default="closed",
                       choices=[("closed", _l("Closed in that month (for the archive)")),
                                ("registered", _l("Registered in that month, in any state"))])
    output = RadioField(_l("As"), [InputRequired()], default="zip",
                        choices=[("zip", _l("A zip of one PDF/A file per case")), ("pdf", _l("One PDF to print"))])

    def set_choices(self, townships) -> None:
        self.township_id.choices = [("", _l("All townships I may see"))] + [(t.id, t.name) for t in townships]
