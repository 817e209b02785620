"""Each user's worklist: to do and done."""
from flask import g
from flask_appbuilder import BaseView, expose, has_access

from portal.clock import utcnow
from portal.services import queries


class WorklistView(BaseView):
    route_base = "/worklist"
    default_view = "todo"
    class_permission_name = "Worklist"
    method_permission_name = {"todo": "read", "done": "read"}

    @expose("/")
    @has_access
    def todo(self):
        items = queries.worklist(g.user)
        return self.render_template("portal/worklist.html", items=items, tab="todo", now=utcnow())

    @expose("/done")
    @has_access
    def done(self):
        items = queries.worklist(g.user, done=True)
        return self.render_template("portal/worklist.html", items=items, tab="done", now=utcnow())
