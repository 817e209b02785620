"""The landing page: logged-in staff go straight to their worklist."""
from flask import g, redirect, url_for
from flask_appbuilder import IndexView, expose


class PortalIndexView(IndexView):
    index_template = "portal/index.html"

    @expose("/")
    def index(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(url_for("WorklistView.todo"))
        return self.render_template(self.index_template, appbuilder=self.appbuilder)
