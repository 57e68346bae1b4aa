"""Row-level security: the database's own line of defence behind `Scope` (docs/adr/0010-row-level-security.md).

The application connects as a role that owns no table and is not a superuser (`voltdesk_app` by default).
Every tenant table has RLS enabled and forced, with one policy written from per-transaction settings:

- `voltdesk.mode`: `system` (jobs, the OCPP server, the CLI: everything), `identity` (the login path: the user,
  organization and token tables only), or `user` (a logged-in request: the rest below). Unset: no rows.
- `voltdesk.org_ids`: `*` (every organization) or `{1,2,3}`; `voltdesk.owner_id`: a location owner's id or
  empty; `voltdesk.user_id`: the user's own id.

The settings are written by `core.db` from the `DbScope` that the service layer derives from `Scope`
(`Scope.db_scope()`). The policies are (re)applied after every migration, from the tables' own columns, so a
new table is covered by the rule its columns imply; a table no rule fits is visible to system scope only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

APP_ROLE = "voltdesk_app"
# Processes without a user (OCPP server, worker, CLI) connect as this one: BYPASSRLS, because PostgreSQL refuses
# COPY into a table with row-level security, and the OCPP server's writers use COPY. It owns nothing either.
SYSTEM_ROLE = "voltdesk_system"
POLICY = "vd_tenant"
# Tables without tenant data: no row-level security.
GLOBAL_TABLES = frozenset({"alembic_version",
                           # The grid's regions, readings and health (services/grid): public data, shared.
                           "grid_region", "grid_reading", "grid_reading_minute", "grid_state_event",
                           # The OCPP processes' liveness rows (services/ocpp/registry.py).
                           "ocpp_process"})

FUNCTIONS = """
CREATE OR REPLACE FUNCTION vd_mode() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('voltdesk.mode', true), '') $$;
CREATE OR REPLACE FUNCTION vd_system() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT vd_mode() = 'system' $$;
CREATE OR REPLACE FUNCTION vd_identity() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT vd_mode() IN ('system', 'identity') $$;
CREATE OR REPLACE FUNCTION vd_all_orgs() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT vd_mode() = 'system'
       OR (vd_mode() = 'user' AND coalesce(current_setting('voltdesk.org_ids', true), '') = '*') $$;
CREATE OR REPLACE FUNCTION vd_org_visible(org integer) RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT vd_all_orgs()
       OR (vd_mode() = 'user'
           AND org = ANY (NULLIF(NULLIF(current_setting('voltdesk.org_ids', true), ''), '*')::integer[])) $$;
CREATE OR REPLACE FUNCTION vd_org_array() RETURNS integer[] LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN vd_mode() = 'user'
               THEN NULLIF(NULLIF(current_setting('voltdesk.org_ids', true), ''), '*')::integer[] END $$;
CREATE OR REPLACE FUNCTION vd_owner() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN vd_mode() = 'user'
               THEN NULLIF(current_setting('voltdesk.owner_id', true), '')::integer END $$;
CREATE OR REPLACE FUNCTION vd_user_id() RETURNS integer LANGUAGE sql STABLE AS
$$ SELECT NULLIF(current_setting('voltdesk.user_id', true), '')::integer $$;
"""

# The settings are read once per statement, as initplans ("(SELECT f())"), not once per row: the planner then
# estimates the policy like an ordinary filter instead of a near-empty one (bench/dashboard.py --rls both).
ORG = "((SELECT vd_all_orgs()) OR organization_id = ANY ((SELECT vd_org_array())::integer[]))"
NOT_OWNER = "(SELECT vd_owner() IS NULL)"
OWNED = "((SELECT vd_owner() IS NULL) OR location_owner_id = (SELECT vd_owner()))"
# Organization-wide tables a location owner may still read: its organization's name, currency and tariffs.
OWNER_READABLE = frozenset({"tariff", "session_window_as_of", "start_window_as_of"})


def _via(parent: str, column: str, table: str) -> str:
    """Visible when the parent row is (the parent's own policy decides)."""
    return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{column})"


# The login paths of customers and of API keys (sign-up, activation links, a key's lookup and its rate count)
# run before any Scope exists: these tables are open to identity scope too, like the staff users' own.
IDENTITY_OPEN = frozenset({"customer_user", "customer_account", "support_links", "api_key", "api_rate_window",
                           "client_limits", "custom_role"})

# Tables whose rule their columns alone do not imply. One table, one rule: the rest follow `rule_for`.
SPECIAL: dict[str, str] = {
    "organization": "vd_identity() OR (SELECT vd_all_orgs()) OR id = ANY ((SELECT vd_org_array())::integer[])",
    "location_owner": f"vd_identity() OR ({ORG} AND ({NOT_OWNER} OR id = (SELECT vd_owner())))",
    "app_user": (
        "vd_identity() OR id = vd_user_id() OR (vd_owner() IS NULL AND (vd_all_orgs()"
        " OR EXISTS (SELECT 1 FROM user_organization uo WHERE uo.user_id = app_user.id"
        " AND vd_org_visible(uo.organization_id))"
        " OR (location_owner_id IS NOT NULL AND EXISTS (SELECT 1 FROM location_owner lo"
        " WHERE lo.id = app_user.location_owner_id))))"
    ),
    "user_organization": f"vd_identity() OR user_id = vd_user_id() OR ({NOT_OWNER} AND {ORG})",
    # The gateways' webhooks as received, before one is matched to a payment: for the processes only.
    "webhook_inbox": "vd_system()",
    "login_throttle": "vd_identity()",
    "user_token": "vd_identity() OR " + _via("app_user", "user_id", "user_token"),
    "mail_outbox": "vd_identity() OR " + _via("app_user", "user_id", "mail_outbox"),
    "unknown_charger": "vd_all_orgs()",
    "audit_log": (f"vd_identity() OR user_id = vd_user_id()"
                  f" OR ({NOT_OWNER} AND ({ORG} OR (organization_id IS NULL AND vd_all_orgs())))"),
    **{table: f"vd_identity() OR ({ORG} AND {NOT_OWNER})" for table in IDENTITY_OPEN},
    # Live events of no organization (the grid's readings) are public to any scope; the rest follow their
    # organization.
    "event_log": f"vd_identity() OR (organization_id IS NULL AND vd_mode() <> '') OR ({ORG} AND {NOT_OWNER})",
    "customer_acceptance": "vd_identity() OR " + _via("customer_user", "customer_user_id", "customer_acceptance"),
    "customer_token": "vd_identity() OR " + _via("customer_user", "customer_user_id", "customer_token"),
    "api_key_use": "vd_identity() OR " + _via("api_key", "api_key_id", "api_key_use"),
    "push_device": (
        "vd_system() OR (user_id IS NOT NULL AND user_id = vd_user_id()) OR (customer_user_id IS NOT NULL AND "
        + _via("customer_user", "customer_user_id", "push_device") + ")"),
    "gateway_call": "vd_system() OR " + _via("payment_gateway", "gateway_id", "gateway_call"),
    "payment_card": "vd_system() OR " + _via("customer_account", "customer_account_id", "payment_card"),
    "payment_event": "vd_system() OR " + _via("payment", "payment_id", "payment_event"),
    "customer_invoice_line": "vd_system() OR " + _via("customer_invoice", "invoice_id", "customer_invoice_line"),
    "notification_delivery": "vd_system() OR " + _via("notification", "notification_id", "notification_delivery"),
    "notification_preference": (
        "vd_system() OR (user_id IS NOT NULL AND " + _via("app_user", "user_id", "notification_preference")
        + ") OR (customer_user_id IS NOT NULL AND "
        + _via("customer_user", "customer_user_id", "notification_preference") + ")"),
    # A charger is also visible to whoever earned sessions on it before it moved (ADR 0004): their history
    # names it.
    "charger": (f"({ORG} AND {OWNED}) OR EXISTS (SELECT 1 FROM charging_session s"
                " WHERE s.charger_id = charger.id AND vd_org_visible(s.organization_id)"
                " AND (vd_owner() IS NULL OR s.location_owner_id = vd_owner()))"),
}
# Anyone acting in a known mode may append to the audit log: a record of an action is never a leak. A charger is
# written only inside its own organization (and owner).
CHECKS: dict[str, str] = {"audit_log": "vd_mode() <> ''", "charger": f"{ORG} AND {OWNED}"}


@dataclass(frozen=True)
class Rule:
    table: str
    using: str
    check: str
    fitted: bool  # False: no rule fits; only system scope sees the table


def rule_for(table: str, columns: set[str]) -> Rule:
    """The policy a table's columns imply (the order matters: the most specific link first)."""
    if table in SPECIAL:
        using = SPECIAL[table]
    elif {"organization_id", "location_owner_id"} <= columns:
        using = f"{ORG} AND {OWNED}"
    elif "organization_id" in columns:
        using = ORG if table in OWNER_READABLE else f"{ORG} AND {NOT_OWNER}"
    elif "invoice_id" in columns:
        using = "vd_system() OR " + _via("invoice", "invoice_id", table)
    elif {"transaction_id", "charger_id"} <= columns:
        using = (f"vd_system() OR CASE WHEN {table}.transaction_id IS NOT NULL"
                 f" THEN {_via('charging_session', 'transaction_id', table)}"
                 f" ELSE {_via('charger', 'charger_id', table)} END")
    elif "charger_id" in columns:
        using = "vd_system() OR " + _via("charger", "charger_id", table)
    elif "transaction_id" in columns:
        using = "vd_system() OR " + _via("charging_session", "transaction_id", table)
    elif "tariff_id" in columns:
        using = "vd_system() OR " + _via("tariff", "tariff_id", table)
    elif "account_id" in columns:
        using = "vd_system() OR " + _via("customer_account", "account_id", table)
    elif "user_id" in columns:
        using = "vd_system() OR " + _via("app_user", "user_id", table)
    else:
        return Rule(table, "vd_system()", "vd_system()", fitted=False)
    return Rule(table, using, CHECKS.get(table, using), fitted=True)


def tenant_tables(conn: Connection) -> dict[str, set[str]]:
    """Every table (and partition) in the schema with its columns, global ones left out."""
    rows = conn.execute(text(
        "SELECT c.relname, a.attname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        # Partitions are reached through their parent, whose policy applies; they get no grants of their own.
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    ))
    tables: dict[str, set[str]] = {}
    for name, column in rows:
        if name not in GLOBAL_TABLES:
            tables.setdefault(name, set()).add(column)
    return tables


def ensure_role(conn: Connection, role: str, *, bypass: bool = False) -> None:
    """Create a role if it is missing: it may log in (and, for the system role, bypass row-level security),
    and may do nothing else special."""
    rls = "BYPASSRLS" if bypass else "NOBYPASSRLS"
    conn.execute(text(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            CREATE ROLE "{role}" LOGIN NOSUPERUSER {rls} NOCREATEDB NOCREATEROLE;
          END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- another database's set-up won
        END $$;
    """))


def apply(conn: Connection, *, app_role: str | None, system_role: str | None = None) -> list[Rule]:
    """Functions, grants and one policy per tenant table; returns the rules applied. Idempotent."""
    conn.execute(text(FUNCTIONS))
    rules = [rule_for(name, cols) for name, cols in sorted(tenant_tables(conn).items())]
    for rule in rules:
        conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{rule.table}"'))
        conn.execute(text(f'CREATE POLICY {POLICY} ON "{rule.table}" USING ({rule.using}) WITH CHECK ({rule.check})'))
        conn.execute(text(f'ALTER TABLE "{rule.table}" ENABLE ROW LEVEL SECURITY'))
        conn.execute(text(f'ALTER TABLE "{rule.table}" FORCE ROW LEVEL SECURITY'))
    unfitted = [r.table for r in rules if not r.fitted]
    if unfitted:
        log.warning("Row-level security: no tenant rule fits %s; only system scope sees them", ", ".join(unfitted))
    for role in filter(None, {app_role, system_role}):
        conn.execute(text(f'GRANT USAGE ON SCHEMA {_schema(conn)} TO "{role}"'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {_schema(conn)}'
                          f' TO "{role}"'))
        conn.execute(text(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {_schema(conn)} TO "{role}"'))
    return rules


def _schema(conn: Connection) -> str:
    return conn.execute(text("SELECT current_schema()")).scalar_one()


def privileged(conn: Connection) -> bool:
    """Whether this connection's role escapes row-level security altogether (a superuser or BYPASSRLS)."""
    return bool(conn.execute(text(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )).scalar_one())
