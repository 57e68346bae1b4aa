"""Every action a charger may send has a focused test: a new handler without one fails here."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import re

import pytest

from ocpp_server.handlers import HANDLERS


def _snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


def test_the_registry_holds_the_charge_point_actions_we_answer():
    assert sorted(HANDLERS) == [
        "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
        "FirmwareStatusNotification", "Heartbeat", "LogStatusNotification", "MeterValues",
        "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification", "StartTransaction",
        "StatusNotification", "StopTransaction",
    ]


@pytest.mark.parametrize("action", sorted(HANDLERS))
def test_every_registered_action_has_a_focused_test_beside_its_handler_module(action):
    family = HANDLERS[action].__module__.rsplit(".", 1)[-1]  # ocpp_server.handlers.core -> core
    name = f"tests.ocpp_server.handlers.test_{family}"
    assert importlib.util.find_spec(name), f"{action}: add tests/ocpp_server/handlers/test_{family}.py"
    module = importlib.import_module(name)
    prefix = f"test_{_snake(action)}_"
    tests = [n for n, fn in vars(module).items() if n.startswith(prefix) and callable(fn)]
    assert tests, f"{action}: add a test named {prefix}… to tests/ocpp_server/handlers/test_{family}.py"
    assert f'"{action}"' in inspect.getsource(module), (
        f"{action}: the tests in test_{family}.py never send a {action} CALL")
