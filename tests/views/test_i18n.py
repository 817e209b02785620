"""The templates' translations, found once per request and language (portal/i18n.py)."""
from __future__ import annotations

from flask import render_template_string, session
from flask_babel import force_locale


def _says(text: str) -> str:
    return render_template_string("{{ _(text) }}", text=text)


def test_a_page_speaks_the_readers_language_and_force_locale_still_switches_it(app):
    with app.test_request_context("/"):
        assert _says("Register a case") == "登记案件"      # Chinese by default
        with force_locale("en"):
            assert _says("Register a case") == "Register a case"
        assert _says("Register a case") == "登记案件"      # back to the reader's language
    with app.test_request_context("/"):
        session["locale"] = "en"                          # the next request, read in English
        assert _says("Register a case") == "Register a case"
        with force_locale("zh"):
            assert _says("Register a case") == "登记案件"
        assert _says("Register a case") == "Register a case"


def test_placeholders_are_filled_and_escaped_as_flask_babel_does(app):
    with app.test_request_context("/"):
        session["locale"] = "en"
        html = render_template_string('{{ _("%(n)s page(s)", n=n) }}', n="<b>3</b>")
        assert html == "&lt;b&gt;3&lt;/b&gt; page(s)"
        assert render_template_string('{{ ngettext("%(num)s day", "%(num)s days", 2) }}') == "2 days"
        # the same through each name a template may use, in a template that escapes and in one that does not
        for name in ("_", "gettext"):
            assert render_template_string("{{ %s('100%%%% of %%(n)s', n=n) }}" % name, n="<b>") == "100% of &lt;b&gt;"
            plain = app.jinja_env.overlay(autoescape=False).from_string("{{ %s('%%(n)s days', n=n) }}" % name)
            assert plain.render(n="<b>") == "<b> days"
        assert render_template_string("{% trans n=n %}{{ n }} page(s){% endtrans %}", n="<i>") == "&lt;i&gt; page(s)"
