"""The demo county's dossier texts and sample papers: every family's texts fill in, and the two sample papers
are what the attachment service accepts (the seed attaches them to many cases, stored once)."""
from __future__ import annotations

import random

import pytest

from portal.demo import records
from portal.demo.papers import identity_png, receipt_pdf
from portal.models import ResolutionMode
from portal.models.assistance import MAX_MINUTES
from portal.services.attachments import identify


@pytest.mark.parametrize("family", sorted(records.TEXTS))
def test_every_family_fills_every_variant_of_its_texts(family):
    rng = random.Random(3)
    for variant in range(len(records.TEXTS[family]["facts"])):
        values = {**records.values_for(rng, family, ("张三", "李四"), None, "文庙社区", "相邻关系"), "variant": variant}
        story = records.Story(ResolutionMode.IN_CENTER, family, values, "周大山", ("张三", "李四"), "peoples")
        for oral in (False, True):
            texts = records.agreement_texts(family, values, oral)
            assert all(texts.values()) and "{" not in "".join(texts.values())
            assert "张三" in texts["agreement_facts"] + texts["agreement_terms"]
        session = records.session_data(rng, story, "agreed", first=True)
        assert session.applicant_statement and "{" not in session.respondent_statement
        for of_party in (False, True):
            asked = records.investigation_data(rng, story, of_party)
            assert asked.content.startswith("问：") and "答：" in asked.content and "{" not in asked.content
            assert len(asked.subject_info) <= 300 and len(asked.matter) <= 200


def test_the_families_cover_the_taxonomy_that_has_its_own_texts():
    assert set(records.FAMILY_OF.values()) | {"general"} == set(records.TEXTS)
    assert records.family_of("0201") == "neighbour" and records.family_of("1901") == "general"


def test_the_sample_papers_are_a_real_png_and_a_one_page_pdf_made_the_same_each_time(ctx):
    assert identify(identity_png()).content_type == "image/png" and identity_png() == identity_png()
    receipt = identify(receipt_pdf())
    assert (receipt.content_type, receipt.pages) == ("application/pdf", 1)


def test_the_demo_services_fill_in_and_fit_their_columns():
    rng = random.Random(5)
    values = {**records.values_for(rng, "family", ("张三", "李四"), None, "文庙社区", "赡养纠纷"), "variant": 0}
    story = records.Story(ResolutionMode.IN_CENTER, "family", values, "周大山", ("张三", "李四"), "peoples")
    for _ in range(20):
        for social_work in (True, False):
            service = records.service_data(rng, story, social_work, party_id=1)
            assert "{" not in service.result + service.provider and "张三" in service.result
            assert len(service.provider) <= 200 and len(service.worker) <= 200
            # the length of the service as recorded (a column the database bounds), not a speed
            assert 0 < service.duration_minutes <= MAX_MINUTES and service.persons >= 1
