"""Page text in the reader's language, looked up quickly.

A page's template asks for a hundred or more translated strings, and Flask-Babel finds the catalogue
afresh for each: nine lookups of Flask's context-local proxies and the locale's name built again, more
than the translation itself. The templates' ``_`` here finds it once per request and language: kept in
Flask-Babel's own per-request state beside the locale it was found for, so ``force_locale`` (Chinese
headers of an export read in English, say) still gets its own catalogue.
"""
from __future__ import annotations

from flask import Flask
from flask.globals import _cv_app
from flask_babel import get_translations
from jinja2 import pass_eval_context
from markupsafe import Markup

_KEY = "portal_translations"


def translations():
    """The catalogue of the current request's language (Flask-Babel's ``get_translations``)."""
    app_ctx = _cv_app.get(None)
    state = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    locale = getattr(state, "babel_locale", None)
    if locale is None:  # the locale not chosen yet in this request: Flask-Babel chooses it
        return get_translations()
    kept = getattr(state, _KEY, None)
    if kept is None or kept[0] is not locale:
        kept = (locale, get_translations())
        setattr(state, _KEY, kept)
    return kept[1]


def install(app: Flask) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext`` and their context forms, as Flask-Babel's
    (``newstyle``: ``%(n)s`` placeholders filled and escaped), on the quick lookup."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    # ``_`` and ``gettext`` in one call: the extension's ``_`` looks ``gettext`` up in the context, which calls
    # the lookup above, each call through the template's call protocol (three calls for each string).
    app.jinja_env.globals.update(_=_gettext, gettext=_gettext)


@pass_eval_context
def _gettext(eval_ctx, string: str, **variables) -> str:
    """The extension's ``newstyle`` gettext: the translation, marked safe where the template escapes,
    always a format string (``%%`` is ``%``) filled with the escaped ``variables``."""
    found = translations().ugettext(string)
    if eval_ctx.autoescape:
        found = Markup(found)
    return found % variables
