"""Sending an export back: the file format a list page asks for, and the download response."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, request

from portal.services.exports import ExportFile


def wanted_format(default: str = "csv") -> str:
    """``?format=csv`` or ``?format=xlsx`` (the service refuses any other)."""
    return request.args.get("format", default)


def file_response(export: ExportFile) -> Response:
    """The file as a download, its name given in UTF-8 for names with Chinese."""
    return Response(export.content, mimetype=export.mimetype,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(export.filename)}"})
