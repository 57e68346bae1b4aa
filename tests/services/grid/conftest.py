"""Grid fixtures: the built-in regions and a staff scope."""
from __future__ import annotations

import pytest

from services.access.permissions import Role
from services.access.scope import Scope
from services.grid import regions


@pytest.fixture
def built_in(session):
    regions.ensure_built_in(session=session)
    session.commit()


@pytest.fixture
def operator_scope():
    return Scope(user_id=1, role=Role.ADMIN, org_ids=None)
