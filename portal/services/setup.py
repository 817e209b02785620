"""Bringing a database to a working portal: roles, reference data, shipped processes."""
from __future__ import annotations

from portal.models import ProcessVersion
from portal.services.accounts import sync_roles
from portal.services.filing import create_online_desk
from portal.services.processes import publish_shipped_processes
from portal.services.reference import load_reference_data


def initialise_portal() -> list[ProcessVersion]:
    """Roles, taxonomy, the county center and the shipped processes (idempotent; each part commits)."""
    sync_roles()
    load_reference_data()
    create_online_desk()
    return publish_shipped_processes()
