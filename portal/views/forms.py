"""Settings pages for administrators: the forms they define for new steps (list, add, edit, preview, delete)."""
from __future__ import annotations

import json

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms.definitions import FormDefinitionForm, editor_rows, type_options
from portal.forms.dynamic import build_form
from portal.services.errors import DomainError, ValidationFailed
from portal.services.formdefs import (
    DefinitionDraft,
    add_definition,
    definition_or_404,
    definitions,
    delete_definition,
    try_values,
    update_definition,
    uses_of,
)
from portal.services.formspecs import DefinitionInvalidError
from portal.views.pages import show_error


def _draft(form: FormDefinitionForm, key: str | None = None) -> DefinitionDraft:
    return DefinitionDraft(key=key or form.key.data or "", title=form.title.data or "",
                           description=form.description.data or "", fields=form.fields.data or "")


class FormDefinitionView(BaseView):
    route_base = "/settings/forms"
    default_view = "list"
    class_permission_name = "FormDefinition"
    method_permission_name = {"list": "read", "preview": "read", "add": "write", "edit": "write", "delete": "write"}

    @expose("/")
    @has_access
    def list(self):
        rows = [(d, uses_of(d.key)) for d in definitions()]
        return self.render_template("portal/form_definitions.html", rows=rows)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = FormDefinitionForm()
        if request.method == "GET":
            form.fields.data = "[]"
        return self._save(form, lambda: add_definition(g.user, _draft(form)))

    @expose("/<key>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, key: str):
        definition = definition_or_404(key)
        if request.method == "GET":
            form = FormDefinitionForm(data={"key": definition.key, "title": definition.title,
                                            "description": definition.description or "",
                                            "fields": definition.fields, "lock_version": definition.lock_version})
        else:
            form = FormDefinitionForm()
        return self._save(form, lambda: update_definition(g.user, key, _draft(form, key), form.lock_version.data),
                          definition)

    def _save(self, form, action, definition=None):
        """Save and go back to the list; or show the editor again as sent, with every problem listed."""
        status, problems = 200, []
        if form.validate_on_submit():
            try:
                saved = action()
            except DefinitionInvalidError as exc:
                problems, status = exc.problems, exc.status_code
            except DomainError as exc:
                flash(str(exc), "danger")
                status = exc.status_code
            else:
                flash(_("Form “%(title)s” saved.", title=saved.title), "success")
                return redirect(url_for("FormDefinitionView.list"))
        elif request.method == "POST":
            flash(_("Please correct the marked fields; nothing was saved."), "danger")
            status = 400
        return self.render_template("portal/form_definition_edit.html", form=form, definition=definition,
                                    rows=editor_rows(form.fields.data), problems=problems,
                                    types=type_options()), status

    @expose("/<key>/preview", methods=["GET", "POST"])
    @has_access
    def preview(self, key: str):
        """The form as a step shows it; sent, it shows what the step would give the workflow (nothing saved)."""
        definition = definition_or_404(key)
        form, values, status = build_form(definition)(), None, 200
        if form.validate_on_submit():
            try:
                values = try_values(key, {k: v for k, v in form.data.items() if k != "csrf_token"})
            except ValidationFailed as exc:
                show_error(form, exc)
                status = exc.status_code
        elif request.method == "POST":
            flash(_("Please correct the marked fields; nothing was saved."), "danger")
            status = 400
        shown = json.dumps(values, ensure_ascii=False, indent=2) if values is not None else None
        return self.render_template("portal/form_definition_preview.html", definition=definition, form=form,
                                    values=shown, uses=uses_of(key)), status

    @expose("/<key>/delete", methods=["POST"])
    @has_access
    def delete(self, key: str):
        try:
            delete_definition(g.user, key)
        except DomainError as exc:
            if exc.status_code == 404:
                abort(404)
            flash(str(exc), "danger")
        else:
            flash(_("Form %(key)s deleted.", key=key), "success")
        return redirect(url_for("FormDefinitionView.list"))
