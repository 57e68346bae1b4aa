"""Row-level security, the second line (core/rls.py, docs/adr/0010-row-level-security.md).

Two organizations hold the same kinds of data in every tenant table. Queries that leave out the application's
own filters, run as the application's role, then see nothing without a scope, and under one tenant's scope
none of the other's rows, in every table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlmodel import Session

from core.db import IDENTITY, DbScope, get_engine, use_db_scope
from core.rls import APP_ROLE, SYSTEM_ROLE, privileged, tenant_tables
from models import (
    AuditLog,
    ChargerCommand,
    ChargerStatusEvent,
    CustomerAccount,
    CustomerUser,
    GridRegion,
    IdTag,
    LoginThrottle,
    MailOutbox,
    MeterValue,
    OcppMessage,
    PaymentGateway,
    ReconciliationMismatch,
    ReconciliationRun,
    Tariff,
    TariffRevision,
    UnknownCharger,
    UserToken,
)
from services.access.scope import scope_for
from services.billing.invoicing import invoice_period
from services.charging.pricing import tariff_prices
from tests.utils.factories import (
    make_charger,
    make_contract,
    make_location_owner,
    make_operator,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)
from tests.utils.rls_seed import seed_empty_tables

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
# Seen by no organization's staff: the login path's own table, and unknown chargers (whole-network roles only).
NOT_FOR_TENANTS = {"login_throttle", "unknown_charger"}
# Seen by no tenant at all: the payment gateways' webhook inbox, before a webhook is matched to a payment.
SYSTEM_ONLY = {"webhook_inbox"}


@dataclass
class Tenant:
    org: object
    cpo: object
    owner_user: object
    charger: object
    session_id: int


def _tenant(session: Session, slug: str) -> Tenant:
    org = make_org(session, slug=slug)
    owner = make_location_owner(session, org)
    tariff = make_tariff(session, org, price_per_kwh="0.30")
    session.add(TariffRevision(tariff_id=tariff.id, effective_from=START - timedelta(days=60),
                               prices=tariff_prices(tariff)))
    charger = make_charger(session, org, location_owner=owner)
    make_contract(session, org, rate="10", effective_from=START - timedelta(days=90), kind="location_owner",
                  location_owner=owner)
    tx = make_transaction(session, charger, started_at=START, stopped_at=START + timedelta(hours=1),
                          meter_values=[(START + timedelta(minutes=30), 5_000), (START + timedelta(hours=1), 9_000)],
                          statuses=[(START, "Charging")])
    cpo = make_user(session, role="cpo", orgs=[org])
    owner_user = make_user(session, role="location_owner", orgs=[org], location_owner=owner)
    account = CustomerAccount(organization_id=org.id, kind="consumer", status="active", name=f"{slug} driver")
    session.add(account)
    session.flush()
    session.add_all([
        CustomerUser(organization_id=org.id, account_id=account.id, email=f"driver@{slug}.test", status="active"),
        IdTag(organization_id=org.id, tag=f"TAG-{slug}"),
        ChargerCommand(charger_id=charger.id, action="Reset", payload={"type": "Soft"}, status="done"),
        OcppMessage(charger_id=charger.id, transaction_id=tx.id, direction="in", action="MeterValues", frame="[]"),
        OcppMessage(charger_id=charger.id, direction="in", action="Heartbeat", frame="[]"),
        ChargerStatusEvent(charger_id=charger.id, connector_id=0, status="Available", occurred_at=START,
                           received_at=START),
        MeterValue(charger_id=charger.id, connector_id=1, timestamp=START - timedelta(days=1), value=Decimal(1)),
        AuditLog(user_id=cpo.id, organization_id=org.id, entity="charger", entity_id=str(charger.id),
                 action="update", changes={}),
        UserToken(user_id=cpo.id, purpose="reset", token_hash=f"{slug:0<64}"[:64], created_at=START,
                  expires_at=START + timedelta(hours=1)),
        MailOutbox(kind="password_reset", user_id=cpo.id),
    ])
    session.commit()
    # Payments (issue 10): a gateway and a reconciliation run of it with one mismatch.
    gateway = PaymentGateway(organization_id=org.id, gateway="dialog", base_url="http://127.0.0.1:9",
                             merchant_id=f"M-{slug}", credentials="sealed")
    session.add(gateway)
    session.flush()
    run = ReconciliationRun(organization_id=org.id, gateway_id=gateway.id, gateway="dialog", day=START.date(),
                            status="mismatched", mismatches=1)
    session.add(run)
    session.flush()
    session.add(ReconciliationMismatch(run_id=run.id, organization_id=org.id, gateway="dialog", day=START.date(),
                                       payment_reference=f"VD-{slug}", kind="missing_in_ledger", currency="USD",
                                       gateway_amount=Decimal("1.00")))
    session.commit()
    # An invoice with its lines, status history and number sequence, and the billing run that made it.
    invoice_period(session=session, org=org, period_start=date(2026, 5, 1), period_end=date(2026, 5, 31))
    # The rolling-window roll-ups, as the dashboard and Transactions move them.
    for mover in ("advance_session_windows", "advance_start_windows"):
        session.execute(text(f"SELECT {mover}(:org, :day)"), {"org": org.id, "day": date(2026, 5, 10)})
    session.commit()
    return Tenant(org, cpo, owner_user, charger, tx.id)


@pytest.fixture
def world(session):
    make_operator(session)
    alpha, bravo = _tenant(session, "alpha"), _tenant(session, "bravo")
    session.add_all([LoginThrottle(key="someone@alpha.test|10.0.0.1", failures=1),
                     UnknownCharger(ocpp_id="STRANGER-1", remote_address="10.0.0.9"),
                     GridRegion(code="LK", name="Sri Lanka", source="ceb")])  # shared by every tenant
    session.commit()
    # Every tenant table the rows above leave empty gets one row per tenant, linked by the tenant's own rows.
    empty = {t for t in tenant_tables(session.connection()) if not _all_rows(session, t)}
    seed_empty_tables(session, [(t.org.slug, scope_for(session, t.cpo).db_scope()) for t in (alpha, bravo)],
                      empty - SYSTEM_ONLY)
    session.execute(text("INSERT INTO webhook_inbox (gateway, event_id, payload) VALUES ('amex', 'evt-1', '{}')"))
    session.commit()
    return session, alpha, bravo


def _rows(table: str, scope: DbScope | None) -> set[str]:
    """Every row of `table` the application role sees under `scope`, with no filter of the application's own."""
    with Session(get_engine()) as s:
        if scope is not None:
            use_db_scope(s, scope)
        return set(s.execute(text(f'SELECT ctid::text FROM "{table}"')).scalars())


def _all_rows(session: Session, table: str) -> set[str]:
    return set(session.execute(text(f'SELECT ctid::text FROM "{table}"')).scalars())


def test_the_application_connects_as_a_role_that_escapes_nothing(database_url):
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == APP_ROLE
        assert not privileged(conn)
        owned = conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")).scalar_one()
        assert owned == 0


def test_processes_without_a_user_connect_as_a_role_that_bypasses_the_policies_and_owns_nothing(engine):
    with engine.connect() as conn:
        role = conn.execute(text("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles"
                                 " WHERE rolname = current_user")).one()
        assert role == (SYSTEM_ROLE, False, True)
        assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")).scalar_one() == 0


def test_every_tenant_table_has_row_level_security_enabled_and_forced(world):
    session = world[0]
    tables = tenant_tables(session.connection())
    flags = dict(session.execute(text(
        "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = ANY(:names)"
    ), {"names": list(tables)}).all())
    assert tables and all(flags[t] for t in tables), [t for t in tables if not flags[t]]


def test_without_a_scope_every_tenant_table_looks_empty(world):
    session = world[0]
    tables = sorted(tenant_tables(session.connection()))
    assert {t for t in tables if not _all_rows(session, t)} == set()
    leaking = {t: len(rows) for t in tables if (rows := _rows(t, None))}
    assert leaking == {}


def test_one_tenants_scope_sees_none_of_the_others_rows_in_any_table(world):
    session, alpha, bravo = world
    scope_a = scope_for(session, alpha.cpo).db_scope()
    scope_b = scope_for(session, bravo.cpo).db_scope()
    for table in sorted(tenant_tables(session.connection())):
        seen_a, seen_b = _rows(table, scope_a), _rows(table, scope_b)
        assert not seen_a & seen_b, f"{table}: both tenants see {len(seen_a & seen_b)} rows"
        if table in NOT_FOR_TENANTS | SYSTEM_ONLY:
            assert not seen_a and not seen_b, table
        else:
            assert seen_a and seen_b, f"{table}: a tenant sees none of its own rows"


def test_a_location_owner_sees_only_what_its_chargers_earned_while_it_held_them(world):
    session, alpha, _ = world
    newcomer = make_location_owner(session, alpha.org, name="Newcomer")
    alpha.charger.location_owner_id = newcomer.id
    session.add(alpha.charger)
    session.commit()
    old_owner = scope_for(session, alpha.owner_user).db_scope()
    assert _count("SELECT count(*) FROM charging_session", old_owner) == 1  # earned before the handover
    # No longer its charger, but its history still names it (and only it).
    assert _count("SELECT count(*) FROM charger", old_owner) == 1
    assert _count("SELECT count(*) FROM connector", old_owner) == 1
    assert _count("SELECT count(*) FROM invoice", old_owner) == 0  # invoices are not a location owner's
    new_user = make_user(session, role="location_owner", orgs=[alpha.org], location_owner=newcomer)
    new_owner = scope_for(session, new_user).db_scope()
    assert _count("SELECT count(*) FROM charger", new_owner) == 1
    assert _count("SELECT count(*) FROM charging_session", new_owner) == 0


def _count(sql: str, scope: DbScope) -> int:
    with Session(get_engine()) as s:
        use_db_scope(s, scope)
        return s.execute(text(sql)).scalar_one()


def test_a_write_into_another_tenant_is_refused_by_the_database(world):
    session, alpha, bravo = world
    with Session(get_engine()) as s:
        use_db_scope(s, scope_for(session, alpha.cpo).db_scope())
        s.add(Tariff(organization_id=bravo.org.id, name="Planted", is_default=False))
        with pytest.raises(ProgrammingError, match="row-level security"):
            s.commit()
    assert session.execute(text("SELECT count(*) FROM tariff WHERE name = 'Planted'")).scalar_one() == 0


def test_the_login_path_sees_users_but_no_charging_data(world):
    session, alpha, _ = world
    assert _count("SELECT count(*) FROM app_user", IDENTITY) > 0
    assert _count("SELECT count(*) FROM charger", IDENTITY) == 0
    assert _count("SELECT count(*) FROM charging_session", IDENTITY) == 0
