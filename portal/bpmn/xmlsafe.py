"""The one door uploaded XML comes in by.

Every diagram and decision table the portal reads is parsed here first, by a
parser that resolves no entities, loads no DTD, opens no network connection
and keeps libxml2's size limits. A file that declares a DOCTYPE (an internal
subset, entity declarations, an external entity) is refused before any XML
parser sees it: the portal's files never need one, and that is where external
entity and entity expansion attacks live. SpiffWorkflow is then given the
parsed tree, never the text.
"""
from __future__ import annotations

import codecs

from lxml import etree

from portal.bpmn.errors import N_, Problem

_DECLARATIONS = ("<!DOCTYPE", "<!ENTITY")


def _parser() -> etree.XMLParser:
    # a new parser per document: lxml parsers keep state and are not to be shared between threads
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=False)


def _as_text(xml: bytes) -> str:
    """The file as text, well enough to look for markup declarations (UTF-16/32 files included)."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if xml.startswith(bom):
            return xml.decode(encoding, errors="replace")
    if xml[:4] in (b"<\0?\0", b"\0<\0?"):
        return xml.decode("utf-16-le" if xml[0] == 0x3C else "utf-16-be", errors="replace")
    return xml.decode("latin-1")  # every ASCII-compatible encoding shows markup as ASCII


def parse_xml(file_name: str, xml: bytes) -> tuple[etree._Element | None, list[Problem]]:
    """The root element of an uploaded file, or None with the problems that refuse it."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    text = _as_text(xml)
    for declaration in _DECLARATIONS:
        at = text.find(declaration)
        if at >= 0:
            return None, [(file_name, text.count("\n", 0, at) + 1, "",
                           N_("DOCTYPE and entity declarations are not allowed"))]
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        return None, [(file_name, exc.lineno, "", N_("the file is not well-formed XML: %(error)s", error=exc.msg))]
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        return None, [(file_name, 1, "", N_("DOCTYPE and entity declarations are not allowed"))]
    return root, []
