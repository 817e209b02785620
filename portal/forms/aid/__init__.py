"""The forms of the branches (assistance and risk control) and of social services, by form key."""
from portal.forms.aid import judicial_aid, legal_aid, relief, risk
from portal.forms.aid.common import SuperviseForm
from portal.forms.aid.services import ServiceForm

FORMS = {"aid_supervise": SuperviseForm, **relief.FORMS, **legal_aid.FORMS, **judicial_aid.FORMS, **risk.FORMS}

__all__ = ["FORMS", "ServiceForm"]
