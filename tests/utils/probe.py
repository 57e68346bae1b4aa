"""A two-tenant world for the cross-tenant probes (tests/api/test_cross_tenant_probe.py, tests/state/...).

Tenant B's data is marked with strings that must never reach tenant A's users: names, ids, tags, emails.
One charger moved from B to A keeps its earlier sessions with B; one charger of A was handed from one location
owner to another. Customers, billing plans, wallets and cards are made through the services; every other tenant
table B (or A) has no row in gets one from tests/utils/rls_seed.py, so each id kind a handler may take
(`KINDS`) has rows of B's to try. `fingerprint` reads everything B (or anyone) may see, row by row, as it stands.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, text
from sqlmodel import Session

from core.db import DbScope, get_engine, use_db_scope
from core.rls import tenant_tables
from models import ChargerCommand, CustomerAccount, IdTag, SupportLinks
from services.access.auth import issue_token
from services.access.scope import customer_scope, scope_for
from services.billing.invoicing import invoice_period
from services.customers.auth import CUSTOMER
from services.network import chargers as charger_svc
from services.payments.gateway_config import save_gateway
from tests.utils.customers import active_customer, make_plan, open_signup
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_operator,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)
from tests.utils.payments import make_card, make_wallet
from tests.utils.rls_seed import _foreign_keys, seed_empty_tables

MAY = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
RESTRICTED = ("network_manager", "customer_support", "cpo")  # bound to tenant A; location_owner apart
WHOLE_NETWORK = ("admin", "technical", "accounts")
SEED = "BRAVOSEED"  # the text of every row rls_seed.py made for B

# Every kind of id a handler takes (in its arguments, a form, a setter's value, a filter or the route), and
# where its values live: (table, column). tests/utils/handler_catalogue.py maps each parameter to one.
KINDS: dict[str, tuple[str, str]] = {
    "charger": ("charger", "id"), "charger_ocpp": ("charger", "ocpp_id"), "transaction": ("charging_session", "id"),
    "invoice": ("invoice", "id"), "org": ("organization", "id"), "tariff": ("tariff", "id"), "user": ("app_user", "id"),
    "owner": ("location_owner", "id"), "customer": ("customer_user", "id"), "account": ("customer_account", "id"),
    "reimbursement_statement": ("reimbursement_statement", "id"), "owner_statement": ("owner_statement", "id"),
    "alert": ("alert", "id"), "unknown_charger": ("unknown_charger", "id"),
    "unknown_charger_ocpp": ("unknown_charger", "ocpp_id"), "firmware_image": ("firmware_image", "id"),
    "upload": ("charger_upload", "id"), "certificate": ("charger_certificate", "id"), "role": ("custom_role", "id"),
    "plan": ("billing_plan", "id"), "asset": ("charging_asset", "id"), "payment": ("payment", "id"),
    "wallet": ("wallet", "id"), "refund": ("payment_refund", "id"), "notification": ("notification", "id"),
    "gateway": ("payment_gateway", "id"), "region": ("grid_region", "code"), "api_key": ("api_key", "id"),
    "device": ("push_device", "id"), "card": ("payment_card", "id"), "id_tag": ("id_tag", "tag"),
}


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
    own: dict[str, list] = field(default_factory=dict)  # id kind → tenant A's own ids (its pages, to act from)
    owner_own: dict[str, list] = field(default_factory=dict)     # the same for O2
    customer_own: dict[str, list] = field(default_factory=dict)  # and for A's customer
    customer_token: str = ""           # a customer of tenant A, for the portal's handlers
    customer_foreign: dict[str, list] = field(default_factory=dict)  # what that customer must not reach


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

    # Customers of both tenants, through the services: accounts, plans, wallets, cards.
    b_scope, a_scope = scope_for(session, b_user), scope_for(session, users["cpo"])
    staff = scope_for(session, admin)
    for org, email, plan in ((b, "bravo.secret.cust@bravo.test", "Bravo Secret Plan"),
                             (a, "alpha.cust@alpha.test", "Alpha Plan")):
        open_signup(session, staff, org)
        make_plan(session, staff, org, name=plan)
        customer = active_customer(session, org, email)
        account = session.get(CustomerAccount, customer.account_id)
        make_wallet(session, org, balance="10.00", account=account)
        make_card(session, account)
        # A gateway with real (sealed) credentials: its webhook route decrypts them.
        save_gateway(session=session, scope=staff, organization_id=org.id, gateway="dialog",
                     base_url="http://127.0.0.1:9/", merchant_id=f"{org.slug}-merchant", secret="probe-secret",
                     webhook_secret="probe-webhook")
        session.commit()
    a_customer = customer
    # B's sign-up closes again: an organization open for sign-up is named on the public sign-up page, by design.
    session.execute(delete(SupportLinks).where(SupportLinks.organization_id == b.id))
    session.commit()
    # One row of B's (and A's) in every tenant table still empty for it.
    scopes = {"b": b_scope.db_scope(), "a": a_scope.db_scope(), "o1": scope_for(session, users_o1).db_scope(),
              "o2": scope_for(session, users["location_owner"]).db_scope(),
              "customer": customer_scope(session, a_customer).db_scope()}
    tables = set(tenant_tables(session.connection()))
    for slug, key in ((SEED, "b"), ("alphaseed", "a")):
        empty = {t for t, n in _counts(scopes[key], tables).items() if n == 0}
        seed_empty_tables(session, [(slug, scopes[key])], _needed(session, empty))
    seen = {key: _ids(scope) for key, scope in scopes.items()}
    everything = {kind: list(session.execute(text(f'SELECT "{c}" FROM "{t}" ORDER BY 1')).scalars())
                  for kind, (t, c) in KINDS.items()}

    def unseen(by: str, *of: str) -> dict[str, list]:
        """Per kind: the ids of `of` that `by` does not see; of no one's (the operator's) when `of` has none."""
        out = {}
        for kind in KINDS:
            ids = [i for key in of for i in seen[key][kind]] or everything[kind]
            out[kind] = list(dict.fromkeys(i for i in ids if i not in seen[by][kind]))
        return out

    for kind, ids in unseen("a", "b").items():
        foreign[kind] = _merge(foreign.get(kind, []), ids)
    for kind, ids in unseen("o2", "b", "o1").items():
        owner_foreign[kind] = _merge(owner_foreign.get(kind, []), ids)
    customer_foreign = {kind: ids[:3] for kind, ids in unseen("customer", "b", "a").items()}
    # A's own ids to act from, none of them seen by B (a command to a charger B earned on would show to B).
    own = {kind: ids[:1] for kind, ids in unseen("b", "a").items()}
    owner_own = {kind: [i for i in ids if i not in seen["o1"][kind]][:1] for kind, ids in unseen("b", "o2").items()}
    customer_own = {kind: ids[:1] for kind, ids in unseen("b", "customer").items()}
    markers += [SEED, "bravo.secret.cust@"]
    return ProbeWorld(users=users, b_user=b_user, foreign=foreign, owner_foreign=owner_foreign, markers=markers,
                      owner_markers=markers + ["ALPHA-OTHER", "O1TAG", "O1OTHER", "Owner One"],
                      b_scope=scopes["b"], other_owner_scope=scopes["o1"],
                      own=own, owner_own=owner_own, customer_own=customer_own,
                      customer_token=issue_token(a_customer, kind=CUSTOMER), customer_foreign=customer_foreign)


def _merge(first: list, more: list, limit: int = 4) -> list:
    """The hand-made ids first (they are the sharp cases), then the others up to `limit`."""
    out = list(first)
    for i in more:
        if i not in out and len(out) < max(limit, len(first)):
            out.append(i)
    return out


def _needed(session: Session, empty: set[str]) -> set[str]:
    """The empty tables of KINDS, and the empty tables their rows must point at."""
    todo, out = [t for t, _ in KINDS.values() if t in empty], set()
    while todo:
        table = todo.pop()
        if table not in out:
            out.add(table)
            todo += [p for p, _ in _foreign_keys(session, table).values() if p in empty and p != table]
    return out


def _counts(scope: DbScope, tables: set[str]) -> dict[str, int]:
    with Session(get_engine()) as s:
        use_db_scope(s, scope)
        return {t: s.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def _ids(scope: DbScope) -> dict[str, list]:
    """Per id kind, the values `scope` sees."""
    with Session(get_engine()) as s:
        use_db_scope(s, scope)
        return {kind: list(s.execute(text(f'SELECT "{column}" FROM "{table}" ORDER BY 1')).scalars())
                for kind, (table, column) in KINDS.items()}


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
