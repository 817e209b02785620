"""Each document of people's mediation, rendered for a case and read back from the PDF."""
from __future__ import annotations

import re

from tests.pdfcheck import cjk_font_embedded, pdf_text


def _squash(text: str) -> str:
    """PDF text without the spaces and line breaks layout puts between characters."""
    return re.sub(r"\s+", "", text)


def _get(client, case_id, key):
    response = client.get(f"/cases/{case_id}/documents/{key}")
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    return response.data


def test_registration_form(login_as, make_case):
    case_id = make_case(until="verify")
    pdf = _get(login_as("sifa"), case_id, "registration")
    text = _squash(pdf_text(pdf))
    assert "人民调解受理登记表" in text
    assert "张三" in text and "李四" in text
    assert cjk_font_embedded(pdf)
