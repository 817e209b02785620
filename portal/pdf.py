"""PDF rendering with WeasyPrint: local fonts only, nothing fetched from outside."""
from __future__ import annotations


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"documents load nothing from outside: {url}")


def render_pdf(html: str, variant: str | None = None) -> bytes:
    """The PDF of an HTML document (fonts from the system's fontconfig, e.g. fonts-noto-cjk);
    ``variant`` e.g. "pdf/a-2b" for the archive copy."""
    from weasyprint import HTML
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(pdf_variant=variant)
