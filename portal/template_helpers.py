"""What list pages draw on every row, made cheap: a template's macro call or ``url_for`` costs tens of
microseconds, and a list of fifty rows asks for hundreds of them."""
from __future__ import annotations

from urllib.parse import quote

from flask import get_template_attribute, url_for
from flask_babel import get_locale
from markupsafe import Markup

from portal.i18n import translations
from portal.request_cache import request_cache

_PLACEHOLDER = 987654321987


def due_label(due, now):
    """A deadline as a label: overdue by how many days, due within a day, or days left; a dash when
    there is none."""
    if not due:
        return Markup('<span class="text-muted">—</span>')
    gettext = translations().ugettext
    left = (due - now).total_seconds() / 3600
    if left < 0:
        return Markup('<span class="label label-danger">%s %s %s</span>') % (
            gettext("Overdue"), round(-left / 24, 1), gettext("days"))
    if left < 24:
        return Markup('<span class="label label-warning">%s</span>') % gettext("Due within a day")
    return Markup('<span class="label label-success">%s %s</span>') % (round(left / 24, 1), gettext("days left"))


class _Url:
    __slots__ = ("head", "tail")

    def __init__(self, head: str, tail: str) -> None:
        self.head, self.tail = head, tail

    def __call__(self, value) -> str:
        return self.head + quote(str(value), safe="") + self.tail


def url_maker(endpoint: str, name: str, **fixed) -> _Url:
    """``url_for(endpoint, name=value, **fixed)`` for many values: ``url_maker('CaseView.show', 'case_id')(7)``
    is ``url_for('CaseView.show', case_id=7)``, built by ``url_for`` once per request, endpoint and ``fixed``."""
    made = request_cache("url_makers")
    key = (endpoint, name, *sorted(fixed.items()))
    if key not in made:
        head, found, tail = url_for(endpoint, **fixed, **{name: _PLACEHOLDER}).partition(str(_PLACEHOLDER))
        if not found:
            raise ValueError(f"{endpoint} does not put {name} in its path")
        made[key] = _Url(head, tail)
    return made[key]


_STATIC_URLS: dict[tuple[str, str], str] = {}


def static_url(filename: str) -> str:
    """``url_for('appbuilder.static', filename=filename)``, built once per file (and path the portal is
    served under): every page links the same eighteen stylesheets and scripts of its layout."""
    from flask import request
    key = (request.script_root, filename)
    if key not in _STATIC_URLS:
        if len(_STATIC_URLS) >= 1000:  # the path comes with the request: never kept without bound
            _STATIC_URLS.clear()
        _STATIC_URLS[key] = url_for("appbuilder.static", filename=filename)
    return _STATIC_URLS[key]


_BLANK_FIELDS: dict[tuple, Markup] = {}
_BLANK_FIELDS_KEPT = 2000  # forms x fields x languages x versions of the county's lists: forgotten beyond


def form_field(f) -> Markup:
    """``m.field(f)`` of ``portal/_macros.html``, for a form whose fields' labels and attributes are those
    of its class. A field as nobody has filled it in (its default, no errors) draws the same for every
    reader of one language while its choices stay the same, so it is drawn once per form, field, language
    and choices: the intake form took 13 ms to draw (178 villages, the dispute types), the case page's
    attachment form 1.3 ms. A field as typed, or refused, is drawn afresh."""
    draw = get_template_attribute("portal/_macros.html", "field")
    if f.errors or f.raw_data or callable(f.default) or f.data != f.default:
        return draw(f)
    key = (type(f._form), f.name, f.type, str(get_locale()), _choices_key(getattr(f, "choices", None)))
    drawn = _BLANK_FIELDS.get(key)
    if drawn is None:
        if len(_BLANK_FIELDS) >= _BLANK_FIELDS_KEPT:
            _BLANK_FIELDS.clear()
        drawn = _BLANK_FIELDS[key] = Markup(draw(f))
    return drawn


def _choices_key(choices):
    """Choices (a list of (value, label[, attributes]), or groups of them by name) as a key: what they say."""
    if choices is None:
        return None
    if isinstance(choices, dict):
        return tuple((str(group), _choices_key(items)) for group, items in choices.items())
    return tuple(_choice_key(c) for c in choices)


def _choice_key(choice):
    if not isinstance(choice, (list, tuple)):
        return choice
    value, label, *rest = choice
    return (value, str(label), *(tuple(sorted(r.items())) if isinstance(r, dict) else r for r in rest))
