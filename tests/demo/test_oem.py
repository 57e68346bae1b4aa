"""The demo's OEM tier: two clients with keys, branded apps and a Dispatcher custom role held by a login, and
an operator fleet ready to link to a client."""
from __future__ import annotations

from sqlalchemy import select

from demo.oem import FLEET
from demo.seed import seed_demo
from models import ApiKey, AppConfig, CustomerAccount, CustomerUser, Organization, User
from services.access.permissions import Cap
from services.access.scope import scope_for
from services.clients import assets


def test_demo_clients_have_keys_apps_and_a_dispatcher_login_and_the_operator_fleet_moves_to_gotham(session):
    result = seed_demo(session=session)
    session.commit()
    for slug in ("lanka-charge", "berlin-emobility"):
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar_one()
        assert session.execute(select(ApiKey).where(ApiKey.organization_id == org.id)).scalars().all()
        assert session.get(AppConfig, org.id).api_key_id is not None
        dispatcher = session.execute(select(User).where(User.email == f"dispatcher@{slug}.local")).scalar_one()
        seen = scope_for(session, dispatcher)
        assert seen.can(Cap.COMMAND_CHARGERS) and not seen.can(Cap.VIEW_USERS) and seen.org_ids >= {org.id}
        assert ("cpo", f"dispatcher@{slug}.local") in {(r, e) for r, e, _ in result.logins}

    admin = session.execute(select(User).where(User.role == "admin").order_by(User.id)).scalars().first()
    gotham = session.execute(select(Organization).where(Organization.slug == "gotham-power")).scalar_one()
    fleet = session.execute(select(CustomerAccount).where(CustomerAccount.name == FLEET)).scalar_one()
    moved = assets.assign_fleet(session=session, scope=scope_for(session, admin), user_id=admin.id,
                                organization_id=gotham.id, account_id=fleet.id)
    session.commit()
    assert moved == 2
    assert {u.organization_id for u in session.execute(select(CustomerUser).join(
        CustomerAccount, CustomerAccount.id == CustomerUser.account_id).where(
        (CustomerAccount.id == fleet.id) | (CustomerAccount.parent_id == fleet.id))).scalars()} == {gotham.id}
