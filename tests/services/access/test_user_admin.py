"""The Users page's services: who may list, create, disable and enable which users."""
from __future__ import annotations

import pytest

from core.errors import NotFound, ValidationError
from services.access import auth
from services.access import users as svc
from services.access.auth import AuthError
from services.access.permissions import PermissionDenied, Role
from services.access.scope import scope_for
from tests.utils.factories import PASSWORD, make_location_owner, make_org, make_user


@pytest.fixture
def orgs(session):
    a = make_org(session, slug="alpha")
    return dict(a=a, a_sub=make_org(session, slug="alpha-sub", parent=a), b=make_org(session, slug="bravo"))


def test_admin_lists_every_user_with_role_label_and_organizations(session, orgs):
    admin = make_user(session, role="admin", email="admin@x.test")
    make_user(session, role="cpo", orgs=[orgs["a"]], email="cpo-a@x.test")
    rows, total = svc.list_users(session=session, scope=scope_for(session, admin))
    assert total == 2
    cpo = next(r for r in rows if r.email == "cpo-a@x.test")
    assert (cpo.role_label, cpo.organizations, cpo.status) == ("CPO", ["Alpha"], "active")


def test_support_of_one_organization_sees_only_users_bound_inside_it(session, orgs):
    support = make_user(session, role="customer_support", orgs=[orgs["a"]], email="support@x.test")
    make_user(session, role="cpo", orgs=[orgs["a_sub"]], email="cpo-sub@x.test")
    make_user(session, role="cpo", orgs=[orgs["b"]], email="cpo-b@x.test")
    make_user(session, role="admin", email="admin@x.test")
    rows, total = svc.list_users(session=session, scope=scope_for(session, support))
    assert {r.email for r in rows} == {"support@x.test", "cpo-sub@x.test"}
    assert total == 2


def test_users_list_searches_email_and_name_and_pages(session, orgs):
    admin = make_user(session, role="admin", email="admin@x.test")
    for n in range(5):
        make_user(session, role="cpo", orgs=[orgs["a"]], email=f"cpo{n}@x.test")
    rows, total = svc.list_users(session=session, scope=scope_for(session, admin), search="CPO", limit=2, offset=2)
    assert total == 5
    assert [r.email for r in rows] == ["cpo2@x.test", "cpo3@x.test"]


@pytest.mark.parametrize("role", ["network_manager", "cpo", "location_owner", "accounts"])
def test_roles_without_the_users_capability_cannot_list_users(session, orgs, role):
    owner = make_location_owner(session, orgs["a"]) if role == "location_owner" else None
    user = make_user(session, role=role, orgs=[orgs["a"]] if not owner else None, location_owner=owner)
    with pytest.raises(PermissionDenied):
        svc.list_users(session=session, scope=scope_for(session, user))


def test_support_may_give_only_support_cpo_and_location_owner_roles(session, orgs):
    support = make_user(session, role="customer_support", orgs=[orgs["a"]])
    scope = scope_for(session, support)
    assert svc.assignable_roles(scope) == [Role.CUSTOMER_SUPPORT, Role.CPO, Role.LOCATION_OWNER]
    with pytest.raises(PermissionDenied):
        svc.provision_user(session=session, scope=scope, email="evil@x.test", password=PASSWORD, role="admin")
    user = svc.provision_user(session=session, scope=scope, email="new@x.test", password=PASSWORD, role="cpo",
                              organization_id=orgs["a_sub"].id, full_name="New CPO")
    session.commit()
    assert auth.authenticate(session=session, email="new@x.test", password=PASSWORD).id == user.id
    assert {o.slug for o in svc.bound_organizations(session=session, user=user)} == {"alpha-sub"}


def test_creating_a_user_in_another_organization_answers_not_found(session, orgs):
    support = make_user(session, role="customer_support", orgs=[orgs["a"]])
    with pytest.raises(NotFound):
        svc.provision_user(session=session, scope=scope_for(session, support), email="x@x.test", password=PASSWORD,
                           role="cpo", organization_id=orgs["b"].id)


def test_a_bound_role_needs_an_organization_and_a_location_owner_user_its_owner(session, orgs):
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    with pytest.raises(ValidationError, match="Choose the organization"):
        svc.provision_user(session=session, scope=scope, email="c@x.test", password=PASSWORD, role="cpo")
    with pytest.raises(ValidationError, match="location owner"):
        svc.provision_user(session=session, scope=scope, email="o@x.test", password=PASSWORD, role="location_owner")
    owner = make_location_owner(session, orgs["b"], "Mall")
    user = svc.provision_user(session=session, scope=scope, email="o@x.test", password=PASSWORD,
                              role="location_owner", location_owner_id=owner.id)
    assert scope_for(session, user).location_owner_id == owner.id


def test_disabling_a_user_ends_its_session_at_once_and_enabling_lets_it_log_in_again(session, orgs):
    admin = make_user(session, role="admin")
    cpo = make_user(session, role="cpo", orgs=[orgs["a"]], email="cpo@x.test")
    token = auth.issue_token(cpo)
    svc.set_status(session=session, scope=scope_for(session, admin), user_id=cpo.id, status="disabled")
    session.commit()
    with pytest.raises(AuthError):
        auth.user_from_token(session=session, token=token)
    with pytest.raises(AuthError, match="disabled"):
        auth.authenticate(session=session, email="cpo@x.test", password=PASSWORD)
    svc.set_status(session=session, scope=scope_for(session, admin), user_id=cpo.id, status="active")
    session.commit()
    assert auth.authenticate(session=session, email="cpo@x.test", password=PASSWORD).id == cpo.id


def test_support_cannot_disable_an_admin_or_itself(session, orgs):
    op = orgs["a"].parent_id
    support = make_user(session, role="customer_support", orgs=[orgs["a"]])
    admin = make_user(session, role="admin", orgs=[orgs["a"]])
    scope = scope_for(session, support)
    assert op is not None
    with pytest.raises(PermissionDenied):
        svc.set_status(session=session, scope=scope, user_id=admin.id, status="disabled")
    with pytest.raises(ValidationError, match="your own account"):
        svc.set_status(session=session, scope=scope, user_id=support.id, status="disabled")


def test_disabling_a_user_of_another_organization_answers_not_found(session, orgs):
    support = make_user(session, role="customer_support", orgs=[orgs["a"]])
    other = make_user(session, role="cpo", orgs=[orgs["b"]])
    with pytest.raises(NotFound):
        svc.set_status(session=session, scope=scope_for(session, support), user_id=other.id, status="disabled")
