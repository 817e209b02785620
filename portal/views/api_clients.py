"""Administrators' pages for the REST API: the systems allowed to use it (create, revoke) and the API's
documentation with Swagger UI (served by the portal itself)."""
from __future__ import annotations

from flask import flash, g, make_response, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _

from portal.forms.api_clients import ApiClientForm
from portal.models import OrgKind
from portal.roles import ROLES
from portal.services import queries
from portal.services.api_clients import ApiClientData, api_clients, create_api_client, revoke_api_client
from portal.services.errors import DomainError
from portal.views.pages import show_error


class ApiClientView(BaseView):
    route_base = "/apiclients"
    default_view = "list"
    class_permission_name = "ApiClients"
    base_permissions = ["can_edit"]
    method_permission_name = {"list": "edit", "add": "edit", "revoke": "edit", "docs": "edit"}

    @expose("/")
    @has_access
    def list(self):
        return self.render_template("portal/api_clients.html", clients=api_clients(),
                                    roles={r.name: r.label for r in ROLES})

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """A new client; its token is shown on the answer to this request only (never stored, never again)."""
        form = ApiClientForm()
        form.set_choices(queries.org_units(*OrgKind), queries.org_units(OrgKind.TOWNSHIP))
        status = 200
        if form.validate_on_submit():
            try:
                client, token = create_api_client(g.user, ApiClientData(
                    form.name.data, form.role_name.data, form.org_unit_id.data, form.township_id.data,
                    list(form.scopes.data or [])))
            except DomainError as exc:
                show_error(form, exc)
                status = exc.status_code
            else:
                response = make_response(self.render_template("portal/api_client_token.html", client=client,
                                                              token=token))
                response.headers["Cache-Control"] = "no-store"
                return response
        elif form.is_submitted():
            flash(_("Please correct the marked fields; nothing was saved."), "danger")
            status = 400
        return self.render_template("portal/api_client_add.html", form=form), status

    @expose("/<int:client_id>/revoke", methods=["POST"])
    @has_access
    def revoke(self, client_id: int):
        client = revoke_api_client(g.user, client_id)
        flash(_("The token of “%(name)s” is revoked: its requests are refused from now on.", name=client.name),
              "success")
        return redirect(url_for("ApiClientView.list"))

    @expose("/docs")
    @has_access
    def docs(self):
        """The API's OpenAPI description in Swagger UI."""
        return self.render_template("portal/api_docs.html", spec_url=url_for("api.openapi"))
