"""A two-tenant world for the cross-tenant probes (tests/api/test_cross_tenant_probe.py, tests/state/...).

Tenant B's data is marked with strings that must never reach tenant A's users: names, ids, tags, emails.
One charger moved from B to A keeps its earlier sessions with B; one charger of A was handed from one location
owner to another. `fingerprint` reads everything B (or anyone) may see, row by row, as it stands.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from core.db import DbScope, get_engine, use_db_scope
from core.rls import tenant_tables
from models import ChargerCommand, IdTag
from services.access.scope import scope_for
from services.billing.invoicing import invoice_period
from services.network import chargers as charger_svc
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_operator,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)

MAY = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
RESTRICTED = ("network_manager", "customer_support", "cpo")  # bound to tenant A; location_owner apart
WHOLE_NETWORK = ("admin", "technical", "accounts")


@dataclass
class ProbeWorld:
    users: dict[str, object]           # role → a user of tenant A (location_owner: the new holder, O2)
    b_user: object                     # tenant B's own CPO
    foreign: dict[str, list[int]]      # id kind → ids tenant A's restricted roles must not reach
    owner_foreign: dict[str, list[int]]  # the same for the location owner O2 (B's and its own organization's)
    markers: list[str]                 # text of tenant B's that must never be shown to tenant A
    owner_markers: list[str]           # and for O2: also what other owners of A earned or hold
    b_scope: DbScope = field(default=None)
    other_owner_scope: DbScope = field(default=None)


def _session(session: Session, charger, day: int, tag: str) -> int:
    start = MAY + timedelta(days=day)
    return make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1),
                            energy_wh=7_000, id_tag=tag).id


def build(session: Session) -> ProbeWorld:
    make_operator(session)
    admin = make_user(session, role="admin")
    a = make_org(session, slug="alpha")
    b = make_org(session, slug="bravo")
    b.name = "Bravo Secret Ltd"
    session.add(b)
    session.commit()
    b_tariff = make_tariff(session, b, name="Bravo Secret Tariff")
    b_owner = make_location_owner(session, b, name="Bravo Secret Owner")
    b_charger = make_charger(session, b, ocpp_id="BRAVO-SECRET", location_owner=b_owner, tariff_id=b_tariff.id)
    b_session = _session(session, b_charger, 1, "BRAVOTAG")
    b_user = make_user(session, role="cpo", orgs=[b], email="bravo.secret@bravo.test")
    session.add_all([IdTag(organization_id=b.id, tag="BRAVOCARD"),
                     ChargerCommand(charger_id=b_charger.id, action="Reset", payload={"type": "Soft"},
                                    status="done")])
    session.commit()
    # Moved from B to A: its May sessions stay B's.
    moved = make_charger(session, b, ocpp_id="MOVED-1")
    moved_b_session = _session(session, moved, 2, "BRAVOHIST")
    charger_svc.update_charger(session=session, scope=scope_for(session, admin), user_id=admin.id,
                               charger_id=moved.id, organization_id=a.id)
    session.commit()
    _session(session, moved, 10, "ALPHANEW")
    # Handed from owner O1 to O2 inside A: O1's sessions stay O1's.
    o1, o2 = make_location_owner(session, a, name="Owner One"), make_location_owner(session, a, name="Owner Two")
    handed = make_charger(session, a, ocpp_id="ALPHA-HANDED", location_owner=o1)
    o1_session = _session(session, handed, 3, "O1TAG")
    charger_svc.update_charger(session=session, scope=scope_for(session, admin), user_id=admin.id,
                               charger_id=handed.id, location_owner_id=o2.id)
    session.commit()
    _session(session, handed, 11, "O2TAG")
    other = make_charger(session, a, ocpp_id="ALPHA-OTHER", location_owner=o1)
    other_session = _session(session, other, 4, "O1OTHER")
    b_invoice = invoice_period(session=session, org=b, period_start=date(2026, 5, 1), period_end=date(2026, 5, 31))
    a_invoice = invoice_period(session=session, org=a, period_start=date(2026, 5, 1), period_end=date(2026, 5, 31))
    assert b_invoice.invoice_id and a_invoice.invoice_id

    users = {role: make_user(session, role=role, orgs=[a]) for role in RESTRICTED + WHOLE_NETWORK}
    users["location_owner"] = make_user(session, role="location_owner", orgs=[a], location_owner=o2)
    foreign = {"charger": [b_charger.id], "org": [b.id], "invoice": [b_invoice.invoice_id],
               "transaction": [b_session, moved_b_session], "user": [b_user.id], "tariff": [b_tariff.id],
               "owner": [b_owner.id]}
    owner_foreign = {k: list(v) for k, v in foreign.items()}
    owner_foreign["charger"] += [other.id]
    owner_foreign["transaction"] += [o1_session, other_session]
    owner_foreign["invoice"] += [a_invoice.invoice_id]
    owner_foreign["owner"] += [o1.id]
    markers = ["BRAVO-SECRET", "Bravo Secret", "bravo.secret@", "BRAVOTAG", "BRAVOHIST", "BRAVOCARD", b_invoice.number]
    users_o1 = make_user(session, role="location_owner", orgs=[a], location_owner=o1)
    return ProbeWorld(users=users, b_user=b_user, foreign=foreign, owner_foreign=owner_foreign, markers=markers,
                      owner_markers=markers + ["ALPHA-OTHER", "O1TAG", "O1OTHER", "Owner One"],
                      b_scope=scope_for(session, b_user).db_scope(),
                      other_owner_scope=scope_for(session, users_o1).db_scope())


def fingerprint(scope: DbScope) -> dict[str, str]:
    """Every row `scope` may see, per table, hashed: what must stay as it was when another tenant probes."""
    out = {}
    with Session(get_engine()) as s:
        use_db_scope(s, scope)
        for table in sorted(tenant_tables(s.connection())):
            rows = s.execute(text(f'SELECT t::text FROM "{table}" t ORDER BY 1')).scalars().all()
            out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def leaked(body: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in body]
