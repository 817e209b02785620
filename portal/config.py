"""Every setting of the portal. Read from the environment here and nowhere else.

``PORTAL_ENV=production`` makes a missing ``PORTAL_SECRET_KEY`` fatal; without
it the portal runs with an embedded SQLite file and a development key, which is
what ``make run`` wants on a fresh machine.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("PORTAL_INSTANCE_DIR", ROOT / "instance"))


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the portal refuses to start."""


def _secret_key(env: str) -> str:
    key = os.environ.get("PORTAL_SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("PORTAL_SECRET_KEY must be set when PORTAL_ENV=production")
    return "dev-only-secret-key-not-for-production"


_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def _rate_limit(name: str, default: str) -> tuple[int, int]:
    """A limit of the public pages, "<count> per [<n>] <unit>" (e.g. "5 per hour", "20 per 10 minutes"),
    as (count, window seconds)."""
    text = os.environ.get(name, default)
    words = text.lower().split()
    try:
        count, per, *span = words
        n, unit = (int(span[0]), span[1]) if len(span) == 2 else (1, span[0])
        seconds = n * _UNITS[unit.rstrip("s")]
        if per != "per" or int(count) < 1 or seconds < 1:
            raise ValueError(text)
    except (ValueError, KeyError, IndexError):
        raise ConfigError(f"{name}={text!r}: write e.g. '5 per hour' or '20 per 10 minutes'") from None
    return int(count), seconds


def load() -> dict:
    """The configuration mapping ``create_app`` starts from."""
    env = os.environ.get("PORTAL_ENV", "development")
    return {
        "PORTAL_ENV": env,
        "SECRET_KEY": _secret_key(env),
        # Embedded SQLite by default; PostgreSQL when PORTAL_DATABASE_URL says so.
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "PORTAL_DATABASE_URL", f"sqlite:///{INSTANCE / 'portal.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # County identity, shown in the title and used in case codes.
        "PORTAL_COUNTY_NAME": os.environ.get("PORTAL_COUNTY_NAME", "示范县"),
        "PORTAL_CASE_CODE_PREFIX": os.environ.get("PORTAL_CASE_CODE_PREFIX", "MT"),
        # Flask-AppBuilder
        "APP_NAME": os.environ.get("PORTAL_APP_NAME", "矛盾纠纷调处化解平台"),
        "APP_THEME": "",  # 16 of 18 bundled themes import Google Fonts
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "AUTH_USER_REGISTRATION": False,
        # Login attempts per address are counted in the database (by every app server together), not by
        # FAB's limiter, which counts in each process's memory: N processes would allow N times the limit.
        "AUTH_RATE_LIMITED": False,
        "RATELIMIT_ENABLED": False,
        "PORTAL_LOGIN_RATE_LIMIT": (_rate_limit("PORTAL_LOGIN_RATE_LIMIT", "10 per minute")
                                    if env == "production" else None),
        "FAB_SECURITY_MANAGER_CLASS": "portal.security.PortalSecurityManager",
        # The schema comes from Alembic migrations; roles and permissions from `flask portal sync-roles`.
        "FAB_CREATE_DB": False,
        "FAB_UPDATE_PERMS": False,
        "FAB_ADD_SECURITY_VIEWS": True,
        "FAB_API_SWAGGER_UI": False,
        "FAB_INDEX_VIEW": "portal.views.home.PortalIndexView",
        # Case attachments (scans, photos), shared by every app server of a deployment.
        "UPLOAD_FOLDER": os.environ.get("PORTAL_UPLOAD_FOLDER", str(INSTANCE / "uploads")) + "/",
        # Finished batch prints (dossiers of many cases), kept for download.
        "PORTAL_PRINT_FOLDER": os.environ.get("PORTAL_PRINT_FOLDER", str(INSTANCE / "prints")),
        "PORTAL_ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
        # The REST API (/api/v1): the largest request body, and how many calls one client (integrating
        # system) may make, counted like the public pages' requests (in the database, by every app server).
        "PORTAL_API_MAX_BYTES": int(os.environ.get("PORTAL_API_MAX_BYTES", 256 * 1024)),
        "PORTAL_API_RATE_LIMIT": _rate_limit("PORTAL_API_RATE_LIMIT", "600 per minute"),
        # 保管期限 of a dossier when its dispute type names none (no national rule: a county setting).
        "PORTAL_DOSSIER_RETENTION": os.environ.get("PORTAL_DOSSIER_RETENTION", "定期30年"),
        # The archive copy is PDF/A (WeasyPrint's pdf_variant).
        "PORTAL_PDF_VARIANT": "pdf/a-2b",
        # The public pages (no login): citizens file a dispute, follow it, add material, rate it.
        # Requests per client address, counted in the database (shared by every app server).
        "PORTAL_PUBLIC_RATE_LIMITS": {
            "file": _rate_limit("PORTAL_RATE_LIMIT_FILE", "5 per hour"),
            "track": _rate_limit("PORTAL_RATE_LIMIT_TRACK", "20 per 10 minutes"),
            "material": _rate_limit("PORTAL_RATE_LIMIT_MATERIAL", "20 per hour"),
            "rate": _rate_limit("PORTAL_RATE_LIMIT_RATE", "10 per hour"),
        },
        # Reverse proxies in front of the portal that set X-Forwarded-For (0: none, the client's own
        # address is the peer's; never trust the header without a proxy that overwrites it).
        "PORTAL_TRUSTED_PROXIES": int(os.environ.get("PORTAL_TRUSTED_PROXIES", "0")),
        "PORTAL_PUBLIC_MAX_FILES": 5,            # attachments per upload on the public pages
        "PORTAL_PUBLIC_TRACK_MINUTES": 30,       # a citizen's tracking page stays open this long
        # 电子送达: a document not opened this many hours after it was served goes to paper service.
        "PORTAL_DELIVERY_PAPER_AFTER_HOURS": int(os.environ.get("PORTAL_DELIVERY_PAPER_AFTER_HOURS", "72")),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "LANGUAGES": {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}},
        "PORTAL_TIMEZONE": "Asia/Shanghai",
        # The dashboard and the heat map read the figures' day sums the worker keeps (exact: corrected
        # by what changed since); "0" counts every figure over the cases and steps themselves instead.
        "PORTAL_FIGURES_FROM_DAY_SUMS": os.environ.get("PORTAL_FIGURES_FROM_DAY_SUMS", "1") != "0",
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Behind HTTPS (nginx in docs/deploy.md): the login cookies travel over HTTPS only.
        "SESSION_COOKIE_SECURE": os.environ.get("PORTAL_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("PORTAL_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
    }
