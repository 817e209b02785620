"""Every message of the portal has its Chinese translation (Chinese is the default UI)."""
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def test_every_message_is_translated_to_chinese():
    with open(ROOT / "portal/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    with open(ROOT / "portal/translations/messages.pot", "rb") as f:
        template = read_po(f)
    missing = [m.id for m in template if m.id and not (catalog.get(m.id) and catalog.get(m.id).string)]
    assert missing == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]
