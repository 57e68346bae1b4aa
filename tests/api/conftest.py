from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_api
from services.access.auth import issue_token


@pytest.fixture
def client(session):
    with TestClient(create_api()) as c:
        yield c


@pytest.fixture
def auth_header():
    def make(user) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(user)}"}

    return make
