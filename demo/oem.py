"""The OEM tier in the demo: two clients, each with a "Client admin" login, a "Dispatcher" custom role and a
user holding it, an API key and a branded app; and a fleet of the operator's own, ready to link to a client."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from models import ApiKey, CustomerAccount, CustomerUser, CustomRole, Organization, User
from models.organization import OrganizationKind
from services.access import api_keys, roles
from services.access import users as user_svc
from services.access.scope import scope_for
from services.clients import app_config

APPS = {
    "lanka-charge": dict(app_name="Lanka Charge", primary_color="#0B6E4F", accent_color="#F2A541",
                         support_email="help@lankacharge.example", support_phone="+94 11 234 5678",
                         support_url="https://lankacharge.example/help", terms_url="https://lankacharge.example/terms",
                         privacy_url="https://lankacharge.example/privacy",
                         features={"map": True, "remote_start": True, "history": True, "payments": True,
                                   "favourites": True, "support_chat": True}),
    "berlin-emobility": dict(app_name="Berlin eMobility", primary_color="#1F3A93", accent_color="#E74C3C",
                             support_email="hilfe@berlin-emobility.example",
                             support_url="https://berlin-emobility.example/hilfe",
                             terms_url="https://berlin-emobility.example/agb",
                             privacy_url="https://berlin-emobility.example/datenschutz",
                             features={"map": True, "remote_start": False, "history": True, "payments": False,
                                       "favourites": True, "support_chat": False}),
}
SCOPES = ["view_chargers", "view_transactions", "command_chargers", "view_dashboard"]
# A client's own role (the Roles page): what a dispatcher at the client needs, nothing more.
DISPATCHER = ["view_dashboard", "view_chargers", "command_chargers", "view_transactions", "view_network"]
FLEET = "Liberty Couriers"  # the operator's fleet (business account): Clients → a client → Assign fleets


def seed_oem(*, session: Session, password: str) -> tuple[int, list[tuple[str, str, str]], list[str]]:
    """(rows created, logins, printed API keys). Keys are shown only when created: only their hash is kept."""
    admin = session.execute(select(User).where(User.role == "admin").order_by(User.id)).scalars().first()
    created, logins, keys = 0, [], []
    if admin is None:
        return created, logins, keys
    scope = scope_for(session, admin)
    for slug, app in APPS.items():
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar_one_or_none()
        if org is None:
            continue
        role = session.execute(select(CustomRole).where(CustomRole.organization_id == org.id,
                                                        CustomRole.name == roles.CLIENT_ADMIN)).scalar()
        if role is None:
            role = roles.client_admin_role(session=session, organization_id=org.id)
            created += 1
        email = f"client-admin@{slug}.local"
        if not session.execute(select(User.id).where(User.email == email)).first():
            user = user_svc.create_user(session=session, email=email, password=password, role="cpo",
                                        org_slugs=[slug], full_name=f"{org.name} Admin")
            user.custom_role_id = role.id
            created += 1
        logins.append(("cpo", email, password))
        dispatcher = session.execute(select(CustomRole.id).where(CustomRole.organization_id == org.id,
                                                                 CustomRole.name == "Dispatcher")).scalar()
        if dispatcher is None:
            dispatcher = roles.create_role(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                                           name="Dispatcher", capabilities=DISPATCHER).id
            created += 1
        email = f"dispatcher@{slug}.local"
        if not session.execute(select(User.id).where(User.email == email)).first():
            user = user_svc.create_user(session=session, email=email, password=password, role="cpo",
                                        org_slugs=[slug], full_name=f"{org.name} Dispatcher")
            user.custom_role_id = dispatcher
            created += 1
        logins.append(("cpo", email, password))
        if not session.execute(select(ApiKey.id).where(ApiKey.organization_id == org.id)).first():
            key = api_keys.create_key(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                                      name=f"{app['app_name']} app", scopes=SCOPES)
            app_config.save_config(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                                   changes={**app, "api_key_id": key.key.id})
            keys.append(f"{org.name}: {key.secret}")
            created += 2
    created += _operator_fleet(session)
    session.flush()
    return created, logins, keys


def _operator_fleet(session: Session) -> int:
    """A business account of the operator's own, with one employee sub-account and two app users, and nothing
    live yet: the operator links it to a client of the same currency (Gotham Power) from the client's page."""
    operator = session.execute(select(Organization).where(Organization.kind == OrganizationKind.OPERATOR)).scalar()
    if operator is None or session.execute(select(CustomerAccount.id).where(CustomerAccount.name == FLEET)).first():
        return 0
    fleet = CustomerAccount(organization_id=operator.id, kind="business", status="active", name=FLEET,
                            legal_name="Liberty Couriers LLC", billing_address="12 Hudson St, New York, NY")
    session.add(fleet)
    session.flush()
    sub = CustomerAccount(organization_id=operator.id, parent_id=fleet.id, use="employee", kind="consumer",
                          status="active", name="Riders")
    session.add(sub)
    session.flush()
    session.add_all([CustomerUser(organization_id=operator.id, account_id=fleet.id, email="fleet@liberty.local",
                                  full_name="Lou Liberty", status="active"),
                     CustomerUser(organization_id=operator.id, account_id=sub.id, email="rider@liberty.local",
                                  full_name="Rae Rider", role="member", status="active")])
    session.flush()
    return 4
