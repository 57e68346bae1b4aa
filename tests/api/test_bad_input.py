"""Bad input on every kind of route answers 4xx with a message and writes nothing (issue 12)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import AuditLog, Organization, Tariff, User
from tests.utils.factories import auth_headers, make_charger, make_org, make_user

NUL, SURROGATE = "a\x00b", "a\ud800b"
BIG = 2**31  # one past the largest 32-bit id
ORG = "{org}"


def _cases():
    for label, bad in (("NUL", NUL), ("surrogate", SURROGATE)):
        yield f"login email {label}", "post", "/api/v1/auth/token", {"json": {"email": bad, "password": "x"}}
        yield f"login password {label}", "post", "/api/v1/auth/token", {
            "json": {"email": "a@example.test", "password": bad}}
        yield f"reset email {label}", "post", "/api/v1/auth/password-reset", {"json": {"email": bad}}
        yield f"activate name {label}", "post", "/api/v1/auth/activate", {
            "json": {"token": "t", "full_name": bad, "password": "long-enough-password"}}
        yield f"reset confirm token {label}", "post", "/api/v1/auth/password-reset/confirm", {
            "json": {"token": bad, "password": "long-enough-password"}}
        yield f"invite email {label}", "post", "/api/v1/users/invite", {
            "json": {"email": f"{bad}@example.test", "role": "admin"}}
        yield f"invite name {label}", "post", "/api/v1/users/invite", {
            "json": {"email": "new@example.test", "role": "admin", "full_name": bad}}
        yield f"org name {label}", "put", f"/api/v1/organizations/{ORG}", {"json": {"name": bad}}
        yield f"org address {label}", "put", f"/api/v1/organizations/{ORG}", {"json": {"address": bad}}
        yield f"tariff name {label}", "post", f"/api/v1/organizations/{ORG}/tariffs", {"json": {"name": bad}}
        yield f"command action {label}", "post", "/api/v1/chargers/1/commands", {"json": {"action": bad}}
    # A URL cannot carry a lone surrogate (it is decoded as U+FFFD), but it can carry a NUL.
    yield "charger search NUL", "get", "/api/v1/chargers", {"params": {"search": NUL}}
    yield "id tag NUL", "get", "/api/v1/transactions", {"params": {"id_tag": NUL}}
    yield "invoice status filter NUL", "get", "/api/v1/invoices", {"params": {"status": NUL}}
    yield "long login email", "post", "/api/v1/auth/token", {
        "json": {"email": "a" * 500 + "@example.test", "password": "x"}}
    for path in ("chargers", "transactions", "invoices", "organizations"):
        yield f"{path} id", "get", f"/api/v1/{path}/{BIG}", {}
        yield f"{path} negative id", "get", f"/api/v1/{path}/{-BIG - 1}", {}
    yield "charger offset", "get", "/api/v1/chargers", {"params": {"offset": BIG}}
    yield "transactions offset", "get", "/api/v1/transactions", {"params": {"offset": BIG}}
    yield "invoices offset", "get", "/api/v1/invoices", {"params": {"offset": BIG}}
    yield "connector id", "get", "/api/v1/transactions", {"params": {"connector_id": BIG}}
    yield "charger filter", "get", "/api/v1/transactions", {"params": {"charger_id": BIG}}
    yield "organization filter", "get", "/api/v1/transactions", {"params": {"organization_id": BIG}}
    yield "revenue organization", "get", "/api/v1/finance/revenue", {"params": {"organization_id": BIG}}
    yield "billing runs organization", "get", "/api/v1/finance/billing-runs", {"params": {"organization_id": BIG}}
    yield "invoices organization", "get", "/api/v1/invoices", {"params": {"organization_id": BIG}}
    yield "resend invitation", "post", f"/api/v1/users/{BIG}/resend-invitation", {}
    yield "invite organization", "post", "/api/v1/users/invite", {
        "json": {"email": "new@example.test", "role": "cpo", "organization_id": BIG}}
    yield "invite location owner", "post", "/api/v1/users/invite", {
        "json": {"email": "new@example.test", "role": "location_owner", "location_owner_id": BIG}}
    yield "command charger", "post", f"/api/v1/chargers/{BIG}/commands", {"json": {"action": "Reset"}}
    yield "invoice status", "post", f"/api/v1/invoices/{BIG}/status", {"json": {"status": "paid"}}
    yield "bulk organizations", "post", "/api/v1/invoices/bulk", {
        "json": {"period_start": "2026-01-01", "period_end": "2026-01-31", "organization_ids": [BIG]}}
    yield "tariff grace minutes", "post", f"/api/v1/organizations/{ORG}/tariffs", {
        "json": {"name": "T", "idle_grace_minutes": BIG}}
    yield "billing day", "put", f"/api/v1/organizations/{ORG}", {"json": {"billing_day": BIG}}
    yield "payment terms", "put", f"/api/v1/organizations/{ORG}", {"json": {"payment_terms_days": BIG * BIG}}
    yield "date_to 9999-12-31", "get", "/api/v1/transactions", {"params": {"date_to": "9999-12-31"}}
    yield "date_from year 1", "get", "/api/v1/transactions", {"params": {"date_from": "0001-01-01"}}
    yield "csv date_to 9999-12-31", "get", "/api/v1/transactions.csv", {"params": {"date_to": "9999-12-31"}}
    yield "invoices period year 9999", "get", "/api/v1/invoices", {
        "params": {"period_start": "9999-12-31", "period_end": "9999-12-31"}}
    for year in ("0001", "9999"):
        yield f"bulk period year {year}", "post", "/api/v1/invoices/bulk", {
            "json": {"period_start": f"{year}-12-01", "period_end": f"{year}-12-31"}}
    for field in ("vat_rate", "gateway_fee_fixed", "energy_cost_per_kwh", "platform_commission_rate"):
        yield f"org {field} 1e-1000000", "put", f"/api/v1/organizations/{ORG}", {"json": {field: "1e-1000000"}}
    yield "tariff price 1e-1000000", "post", f"/api/v1/organizations/{ORG}/tariffs", {
        "json": {"name": "T", "price_per_kwh": "1e-1000000"}}


CASES = list(_cases())


@pytest.fixture
def world(session):
    org = make_org(session, slug="berlin")
    make_charger(session, org)
    admin = make_user(session, role="admin")
    return org, admin


def _counts(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (AuditLog, Organization, Tariff, User))


@pytest.mark.parametrize(("method", "path", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_answers_4xx_with_a_message_and_writes_nothing(client, session, world, method, path, kwargs):
    org, admin = world
    before = _counts(session)
    name_before = org.name
    headers = auth_headers(admin)
    if "json" in kwargs:  # sent as JSON text: a lone surrogate travels as the escape \ud800
        kwargs = {"content": json.dumps(kwargs["json"])}
        headers["Content-Type"] = "application/json"
    r = client.request(method.upper(), path.replace(ORG, str(org.id)), headers=headers, **kwargs)
    assert 400 <= r.status_code < 500, r.text
    assert r.status_code not in (401, 403), r.text  # refused for the input, not for the caller
    assert r.json()["message"], r.text
    assert _counts(session) == before
    assert session.get(Organization, org.id).name == name_before
