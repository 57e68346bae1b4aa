"""Isolation: every role sees exactly the organizations and chargers it should."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.errors import NotFound
from models import Charger, ChargerDayStat, Organization, OrgDayStat, Transaction
from services.access import organizations as org_svc
from services.access.scope import scope_for
from services.network import chargers as charger_svc
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_operator,
    make_org,
    make_transaction,
    make_user,
)


@pytest.fixture
def network(session):
    op = make_operator(session)
    a = make_org(session, slug="alpha")
    a_sub = make_org(session, slug="alpha-sub", parent=a)
    b = make_org(session, slug="bravo", currency="USD", timezone="America/New_York")
    owner = make_location_owner(session, a, "Mall")
    chargers = {
        "a1": make_charger(session, a, ocpp_id="A1", location_owner=owner),
        "a2": make_charger(session, a, ocpp_id="A2"),
        "sub1": make_charger(session, a_sub, ocpp_id="SUB1"),
        "b1": make_charger(session, b, ocpp_id="B1"),
    }
    return dict(op=op, a=a, a_sub=a_sub, b=b, owner=owner, chargers=chargers)


def _visible(session, user):
    scope = scope_for(session, user)
    orgs = {o.slug for o in org_svc.list_organizations(session=session, scope=scope)}
    rows, total = charger_svc.list_chargers(session=session, scope=scope)
    assert total == len(rows)
    return orgs, {r.ocpp_id for r in rows}


@pytest.mark.parametrize("role", ["admin", "technical", "accounts"])
def test_operator_wide_roles_see_every_organization_whatever_they_are_bound_to(session, network, role):
    user = make_user(session, role=role, orgs=[network["b"]])
    orgs, chargers = _visible(session, user)
    assert orgs == {"operator", "alpha", "alpha-sub", "bravo"}
    assert chargers == {"A1", "A2", "SUB1", "B1"}


@pytest.mark.parametrize("role", ["network_manager", "customer_support", "cpo"])
def test_bound_roles_see_their_organization_and_its_sub_organizations_only(session, network, role):
    user = make_user(session, role=role, orgs=[network["a"]])
    orgs, chargers = _visible(session, user)
    assert orgs == {"alpha", "alpha-sub"}
    assert chargers == {"A1", "A2", "SUB1"}


def test_staff_bound_to_the_operator_see_the_whole_tree(session, network):
    user = make_user(session, role="network_manager", orgs=[network["op"]])
    orgs, chargers = _visible(session, user)
    assert orgs == {"operator", "alpha", "alpha-sub", "bravo"}
    assert chargers == {"A1", "A2", "SUB1", "B1"}


def test_location_owner_sees_only_its_assigned_chargers(session, network):
    user = make_user(session, role="location_owner", location_owner=network["owner"])
    _, chargers = _visible(session, user)
    assert chargers == {"A1"}


def test_reading_another_organizations_records_by_id_answers_not_found(session, network):
    cpo_b = make_user(session, role="cpo", orgs=[network["b"]])
    scope = scope_for(session, cpo_b)
    with pytest.raises(NotFound):
        org_svc.get_organization(session=session, scope=scope, org_id=network["a"].id)
    with pytest.raises(NotFound):
        charger_svc.get_charger(session=session, scope=scope, charger_id=network["chargers"]["a1"].id)
    # and its own records are readable
    own = charger_svc.get_charger(session=session, scope=scope, charger_id=network["chargers"]["b1"].id)
    assert own.ocpp_id == "B1"


def test_location_owner_cannot_read_an_unassigned_charger_of_its_own_organization(session, network):
    user = make_user(session, role="location_owner", location_owner=network["owner"])
    with pytest.raises(NotFound):
        charger_svc.get_charger(session=session, scope=scope_for(session, user),
                                charger_id=network["chargers"]["a2"].id)


def test_organization_switcher_narrows_to_one_organization_inside_the_scope(session, network):
    user = make_user(session, role="network_manager", orgs=[network["a"]])
    scope = scope_for(session, user)
    rows, _ = charger_svc.list_chargers(session=session, scope=scope.narrowed(network["a_sub"].id))
    assert {r.ocpp_id for r in rows} == {"SUB1"}
    with pytest.raises(NotFound):
        scope.narrowed(network["b"].id)


def test_charger_search_matches_id_name_and_address_in_sql(session, network):
    admin = make_user(session, role="admin")
    c = session.get(Charger, network["chargers"]["b1"].id)
    c.address = "5th Avenue"
    session.commit()
    rows, total = charger_svc.list_chargers(session=session, scope=scope_for(session, admin), search="avenue")
    assert [r.ocpp_id for r in rows] == ["B1"] and total == 1


def test_database_refuses_a_second_platform_operator(session, network):
    from sqlalchemy.exc import IntegrityError

    session.add(Organization(slug="rogue", name="Rogue", kind="operator", currency="USD", timezone="UTC"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def _earned_by(session, scope, model) -> set[int]:
    return set(session.execute(select(model.id).where(scope.stat_filter(model))).scalars())


def test_history_follows_the_snapshot_not_the_chargers_current_holder(session, network):
    # The mall charger's session was earned by the owner; a later session on a charger with no owner is not.
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    mall = make_transaction(session, network["chargers"]["a1"], started_at=at, stopped_at=at + timedelta(hours=1),
                            energy_wh=1000, price=False)
    street = make_transaction(session, network["chargers"]["a2"], started_at=at, stopped_at=at + timedelta(hours=1),
                              energy_wh=1000, price=False)
    # The street charger passes to the owner afterwards: its earlier session stays with the organization.
    network["chargers"]["a2"].location_owner_id = network["owner"].id
    session.commit()
    owner = scope_for(session, make_user(session, role="location_owner", location_owner=network["owner"]))
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[network["a"]]))
    assert _earned_by(session, owner, Transaction) == {mall.id}
    assert _earned_by(session, cpo, Transaction) == {mall.id, street.id}
    assert set(session.execute(select(Transaction.id).where(owner.transaction_filter())).scalars()) == {mall.id}
    assert _earned_by(session, owner, ChargerDayStat) == set(session.execute(
        select(ChargerDayStat.id).where(ChargerDayStat.location_owner_id == network["owner"].id)).scalars())


def test_a_location_owners_figures_need_a_roll_up_split_by_owner(session, network):
    owner = scope_for(session, make_user(session, role="location_owner", location_owner=network["owner"]))
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[network["a"]]))
    assert cpo.can_filter(OrgDayStat) and cpo.can_filter(ChargerDayStat)
    assert owner.can_filter(ChargerDayStat) and not owner.can_filter(OrgDayStat)
    with pytest.raises(TypeError, match="location_owner_id"):
        owner.stat_filter(OrgDayStat)
