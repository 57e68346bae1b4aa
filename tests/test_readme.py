"""The README documents what the code does: its permission table and every configuration variable."""
from __future__ import annotations

import re

from core.config import ROOT, Settings
from services.access.permissions import markdown_table


def test_readme_shows_the_permission_table_from_code():
    assert markdown_table() in (ROOT / "README.md").read_text()


def test_every_setting_is_documented_in_env_example_and_readme():
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    for name in Settings.model_fields:
        assert name.upper() in documented, f"{name.upper()} missing from .env.example"
        assert f"`{name.upper()}`" in readme, f"{name.upper()} missing from README.md"
