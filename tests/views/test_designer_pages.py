"""The designer's pages answer for an administrator: the files, the modeler, a draft saved over the
page's JSON route (and a stale one refused with 409), the versions and the difference page."""
from __future__ import annotations

import re

from portal.bpmn import shipped_diagrams
from portal.services.processes import published_version
from tests.services.test_designer import CHAIN, with_step_between


def test_the_designer_pages_for_an_administrator(login_as, ctx):
    client = login_as("admin")
    page = client.get("/processes/").get_data(as_text=True)
    assert "mediation_chain.bpmn" in page and "triage_tier.dmn" in page
    page = client.get(f"/processes/edit/{CHAIN}").get_data(as_text=True)
    assert "vendor/bpmn-js/bpmn-modeler.production.min.js" in page and "https://" not in page.split("<body")[1]
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    loaded = client.get(f"/processes/load/{CHAIN}").get_json()
    assert loaded["revision"] == 0 and "mediation_chain" in loaded["xml"]
    edited = with_step_between(shipped_diagrams()[CHAIN], "triage", "dispatch")
    headers = {"X-CSRFToken": token, "Content-Type": "application/xml"}
    saved = client.post(f"/processes/save/{CHAIN}", data=edited, headers={**headers, "X-Base-Revision": "0"})
    assert saved.status_code == 200 and saved.get_json()["revision"] == 1
    stale = client.post(f"/processes/save/{CHAIN}", data=edited, headers={**headers, "X-Base-Revision": "0"})
    assert stale.status_code == 409 and "admin" in stale.get_json()["message"]
    checked = client.post(f"/processes/check/{CHAIN}", data=edited, headers=headers).get_json()
    assert checked["problems"] == []
    v1 = published_version("mediation_chain")
    resp = client.post(f"/processes/publish/{CHAIN}", data={"csrf_token": token, "revision": "1",
                                                            "reason": "增加质量复核"})
    assert resp.status_code == 302
    v2 = published_version("mediation_chain")
    assert v2.id != v1.id
    versions = client.get("/processes/versions/mediation_chain").get_data(as_text=True)
    assert "增加质量复核" in versions
    compare = client.get(f"/processes/compare?old={v1.id}&new={v2.id}")
    text = compare.get_data(as_text=True)
    assert compare.status_code == 200 and "quality_review" in text
    xml = client.get(f"/processes/version/{v2.id}.bpmn")
    assert xml.status_code == 200 and b"quality_review" in xml.data
