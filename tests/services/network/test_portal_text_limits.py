"""Issue 14: every free-text input of the portal forms has a length limit enforced on the server. A pasted page
(10,000 characters) is refused with a short message naming the field, and nothing is saved.

The forms: Location owners → New location owner (name, contact, e-mail, phone, address) and Invite a user (name,
e-mail); Account (name, time zone, new e-mail); an admin's password reset (temporary password). Assigning an
owner takes ids from lists only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import ValidationError
from models import LocationOwner, User
from services.access import invitations, settings
from services.access.scope import scope_for
from services.network import owners
from tests.utils.factories import PASSWORD, make_location_owner, make_org, make_user

PASTED = "x" * 10_000


def refused(call, field: str) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.field == field
    message = str(caught.value)
    assert len(message) < 200, message  # the message never repeats the pasted text
    return message


@pytest.fixture
def cpo(session):
    org = make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")
    user = make_user(session, role="cpo", orgs=[org])
    return org, user, scope_for(session, user)


@pytest.mark.parametrize("field", ["name", "contact_name", "email", "phone", "address"])
def test_a_new_location_owner_refuses_a_pasted_page_in_any_field(session, cpo, field):
    org, user, scope = cpo
    form = dict(name="Galle Face Hotel", contact_name="Nimal", email="ops@gfh.lk", phone="+94 11", address="Colombo")
    form[field] = PASTED if field != "email" else PASTED + "@gfh.lk"
    refused(lambda: owners.create_owner(session=session, scope=scope, user_id=user.id, organization_id=org.id,
                                        **form), field)
    session.rollback()
    assert session.execute(select(func.count()).select_from(LocationOwner)).scalar_one() == 0


@pytest.mark.parametrize("field", ["full_name", "email"])
def test_inviting_an_owners_user_refuses_a_pasted_name_or_address(session, cpo, field):
    org, user, scope = cpo
    hotel = make_location_owner(session, org, "Galle Face Hotel")
    form = dict(full_name="Hotel Manager", email="manager@gfh.lk")
    form[field] = PASTED if field != "email" else PASTED + "@gfh.lk"
    refused(lambda: invitations.invite_user(session=session, scope=scope, role="location_owner",
                                            organization_id=org.id, location_owner_id=hotel.id, **form), field)
    session.rollback()
    assert session.execute(select(func.count()).select_from(User).where(User.role == "location_owner")) \
        .scalar_one() == 0


@pytest.mark.parametrize("field", ["full_name", "timezone"])
def test_the_settings_form_refuses_a_pasted_name_or_time_zone(session, field):
    user = make_user(session, role="accounts")
    form = dict(full_name="Asha Perera", timezone="Asia/Colombo", date_format="iso")
    form[field] = PASTED
    refused(lambda: settings.update_user_settings(session=session, user=user, **form), field)
    session.rollback()
    assert session.get(User, user.id).full_name in ("", None)


def test_an_email_change_refuses_a_pasted_address(session):
    user = make_user(session, role="accounts", email="before@example.test")
    refused(lambda: invitations.request_email_change(session=session, user=user, new_email=PASTED + "@example.test",
                                                     password=PASSWORD), "email")
    session.rollback()
    assert session.get(User, user.id).email == "before@example.test"


def test_an_admins_password_reset_refuses_a_pasted_temporary_password(session):
    target = make_user(session, role="cpo", orgs=[make_org(session, slug="lanka")])
    before = target.password_hash
    admin = scope_for(session, make_user(session, role="admin"))
    refused(lambda: invitations.admin_reset_password(session=session, scope=admin, user_id=target.id,
                                                     method=invitations.RESET_TEMPORARY, temporary_password=PASTED),
            "password")
    session.rollback()
    assert session.get(User, target.id).password_hash == before
