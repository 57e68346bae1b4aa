#!/usr/bin/env python
"""Voltdesk operator command line. `python manage.py --help` lists the commands."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime

from core.errors import Conflict, NotFound, ValidationError


def _session():
    from core.db import SYSTEM, session_scope
    from services.access.audit import record_system_scope

    # The operator's shell acts for the whole network; each command says so in the audit log (not its arguments).
    record_system_scope(process=f"cli:{sys.argv[1] if len(sys.argv) > 1 else ''}")
    return session_scope(SYSTEM)


def _org_or_fail(session, slug: str):
    from services.access.organizations import get_by_slug

    org = get_by_slug(session=session, slug=slug)
    if org is None:
        raise ValidationError(f"Organization '{slug}' does not exist. See `python manage.py org add --help`.")
    return org


def cmd_migrate(args) -> None:
    from core.migrate import upgrade

    upgrade()
    print("Database is up to date.")


def cmd_createuser(args) -> None:
    from services.access.users import create_user

    with _session() as s:
        user = create_user(session=s, email=args.email, password=args.password, role=args.role,
                           org_slugs=args.org or [], full_name=args.name or "")
        print(f"Created {user.role} user {user.email} (id {user.id}).")


def cmd_org_add(args) -> None:
    from services.access.organizations import create_organization

    with _session() as s:
        org = create_organization(session=s, name=args.name, slug=args.slug, currency=args.currency,
                                  timezone=args.timezone, region=args.region, parent_slug=args.parent)
        print(f"Created {org.kind} organization {org.slug} (id {org.id}, {org.currency}, {org.timezone}).")


def cmd_charger_add(args) -> None:
    from services.network.chargers import register_charger

    with _session() as s:
        org = _org_or_fail(s, args.org)
        charger, key = register_charger(session=s, ocpp_id=args.id, organization=org, name=args.name or "",
                                        auth_key=args.auth_key, security_profile=args.security_profile,
                                        connectors=args.connectors)
        print(f"Registered charger {charger.ocpp_id} in {org.slug}.")
        if key and not args.auth_key:
            print(f"OCPP AuthorizationKey (shown once, store it on the charger): {key}")


def _parse_expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"--expires '{value}' is not an ISO date such as 2027-01-31T23:59:59+00:00.") from None
    if when.tzinfo is None:
        raise ValidationError("--expires needs a timezone offset, for example 2027-01-31T23:59:59+00:00.")
    return when


def cmd_idtag_add(args) -> None:
    from services.charging.idtags import create_id_tag

    with _session() as s:
        org = _org_or_fail(s, args.org)
        tag = create_id_tag(session=s, tag=args.tag, organization=org, expires_at=_parse_expiry(args.expires))
        print(f"Added idTag {tag.tag} for {org.slug}.")


def _cli_scope(org):
    """The shell user acts as an admin of the one organization named on the command line."""
    from services.access.permissions import Role
    from services.access.scope import Scope

    return Scope(user_id=0, role=Role.ADMIN, org_ids=frozenset({org.id}))


def cmd_idtag_group(args) -> None:
    from services.charging.idtags import set_group

    with _session() as s:
        scope = _cli_scope(_org_or_fail(s, args.org))
        tag = set_group(session=s, scope=scope, tag=args.tag, group=None if args.none else args.group)
        print(f"idTag {tag.tag} is in group {tag.parent_tag}." if tag.parent_tag else f"idTag {tag.tag} has no group.")


def cmd_idtag_status(args) -> None:
    from services.charging.idtags import set_status

    with _session() as s:
        tag = set_status(session=s, scope=_cli_scope(_org_or_fail(s, args.org)), tag=args.tag, status=args.status)
        print(f"idTag {tag.tag} is {tag.status}.")


def cmd_seed_demo(args) -> None:
    from demo.logins import print_logins
    from demo.seed import seed_demo

    with _session() as s:
        result = seed_demo(session=s)
    print(f"Demo data ready ({result.created} rows created).")
    print_logins(result.logins)


def cmd_run(args) -> None:
    from demo.stack import run_stack

    sys.exit(run_stack(chargers=args.chargers))


def cmd_cluster(args) -> None:
    from demo.cluster import run_cluster

    sys.exit(run_cluster(ocpp=args.ocpp, web=args.web, redis_url=args.redis_url))


# --- invoices (issue 5) -------------------------------------------------------------------------------------


def _iso_date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date such as 2026-10-31") from None


def cmd_invoices_generate(args) -> None:
    from services.billing.invoicing import SYSTEM_SCOPE, generate_bulk

    with _session() as s:
        org_ids = [_org_or_fail(s, slug).id for slug in args.org] if args.org else None

        def progress(done: int, total: int) -> None:
            print(f"\r  {done}/{total} organizations", end="", file=sys.stderr, flush=True)

        result = generate_bulk(session=s, scope=SYSTEM_SCOPE, period_start=args.period_start,
                               period_end=args.period_end, organization_ids=org_ids, trigger="cli",
                               on_progress=progress if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for o in result.outcomes:
        print(f"{o.outcome:<8} {o.organization:<32} {o.reason}")
    print(result.summary)
    if result.count("failed"):
        raise SystemExit(1)


def add_invoice_commands(sub) -> None:
    inv = sub.add_parser("invoices", help="partner invoices").add_subparsers(dest="invoices_command", required=True,
                                                                           metavar="ACTION")
    s = inv.add_parser("generate", help="invoice every client organization (or --org) for a period; idempotent",
                       description="Make the Draft invoices of a period. Organizations already invoiced for it "
                                   "or with nothing to bill are skipped, with the reason. Exits 1 if any failed.")
    s.add_argument("--period-start", required=True, type=_iso_date, metavar="YYYY-MM-DD",
                   help="first day of the period (in each organization's timezone)")
    s.add_argument("--period-end", required=True, type=_iso_date, metavar="YYYY-MM-DD",
                   help="last day of the period, inclusive")
    s.add_argument("--org", action="append", metavar="SLUG", help="only this organization (repeatable)")
    s.set_defaults(func=cmd_invoices_generate)


# --- end invoices --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="manage.py", description="Voltdesk operator commands.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("migrate", help="apply database migrations")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("createuser", help="create a user")
    s.add_argument("--email", required=True)
    s.add_argument("--password", required=True, help="8 to 72 bytes")
    s.add_argument("--role", required=True, help="admin, technical, accounts, network_manager, customer_support, cpo")
    s.add_argument("--org", action="append", help="organization slug the user is bound to (repeatable)")
    s.add_argument("--name", help="full name")
    s.set_defaults(func=cmd_createuser)

    org = sub.add_parser("org", help="organizations").add_subparsers(dest="org_command", required=True,
                                                                     metavar="ACTION")
    s = org.add_parser("add", help="add an organization")
    s.add_argument("--name", required=True)
    s.add_argument("--slug", required=True, help="lowercase letters, digits and dashes")
    s.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    s.add_argument("--timezone", required=True, help="IANA name, e.g. Europe/Berlin")
    s.add_argument("--region", default="US", choices=["US", "EU", "MENA"])
    s.add_argument("--parent", help="parent organization slug (omit only for the platform operator)")
    s.set_defaults(func=cmd_org_add)

    ch = sub.add_parser("charger", help="chargers").add_subparsers(dest="charger_command", required=True,
                                                                   metavar="ACTION")
    s = ch.add_parser("add", help="register a charger")
    s.add_argument("--id", required=True, help="OCPP charge point id")
    s.add_argument("--org", required=True, help="organization slug")
    s.add_argument("--name")
    s.add_argument("--auth-key", help="OCPP AuthorizationKey (16-40 chars); generated when omitted")
    s.add_argument("--security-profile", type=int, default=1, choices=[0, 1, 2])
    s.add_argument("--connectors", type=int, default=1)
    s.set_defaults(func=cmd_charger_add)

    it = sub.add_parser("idtag", help="id tags").add_subparsers(dest="idtag_command", required=True,
                                                                metavar="ACTION")
    s = it.add_parser("add", help="add an idTag")
    s.add_argument("--tag", required=True)
    s.add_argument("--org", required=True, help="organization slug where the tag may charge")
    s.add_argument("--expires", help="ISO timestamp with offset")
    s.set_defaults(func=cmd_idtag_add)
    s = it.add_parser("group", help="put an idTag in a group (OCPP parentIdTag), or take it out")
    s.add_argument("--tag", required=True)
    s.add_argument("--org", required=True, help="organization slug of the tag")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--group", help="the group's own idTag (same organization)")
    g.add_argument("--none", action="store_true", help="leave the group")
    s.set_defaults(func=cmd_idtag_group)
    s = it.add_parser("status", help="block or unblock an idTag; a group's tag blocks the whole group")
    s.add_argument("--tag", required=True)
    s.add_argument("--org", required=True, help="organization slug of the tag")
    s.add_argument("--status", required=True, choices=["Accepted", "Blocked"])
    s.set_defaults(func=cmd_idtag_status)

    s = sub.add_parser("seed-demo", help="create the demo data (idempotent)")
    s.set_defaults(func=cmd_seed_demo)

    s = sub.add_parser("run", help="run the whole stack (what `make run` calls)")
    s.add_argument("--chargers", type=int, default=8, help="simulated demo chargers to start")
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("cluster", help="HAProxy, several OCPP processes, two web backends with Redis, the worker")
    s.add_argument("--ocpp", type=int, default=2, help="OCPP processes behind HAProxy")
    s.add_argument("--web", type=int, default=2, help="Reflex backends behind HAProxy")
    s.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis shared by the web backends")
    s.set_defaults(func=cmd_cluster)
    add_invoice_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError as SettingsError

    args = build_parser().parse_args(argv)
    try:
        from core.config import get_settings

        get_settings()
        args.func(args)
    except SettingsError as exc:
        for err in exc.errors():
            print(f"configuration error: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 1
    except (ValidationError, Conflict, NotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
