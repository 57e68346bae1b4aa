"""Id-tag groups (parentIdTag), the local list built from the tags, and security profile changes."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core.errors import NotFound, ValidationError
from models import ChargerCommand, LocalAuthList
from services.access.scope import scope_for
from services.charging import idtags as idtag_svc
from services.ocpp import local_list, security_profile
from services.ocpp.authorize import authorize
from services.ocpp.commands import create_command
from tests.utils.factories import make_charger, make_org, make_user

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def site(session):
    org = make_org(session, slug="grp")
    charger = make_charger(session, org, ocpp_id="GRP-1")
    for tag in ("FLEET", "CARD-1", "CARD-2"):
        idtag_svc.create_id_tag(session=session, tag=tag, organization=org)
    session.commit()
    return org, charger


def test_blocking_the_group_tag_blocks_every_tag_in_the_group_and_only_them(session, site):
    org, charger = site
    scope = scope_for(session, make_user(session, role="network_manager", orgs=[org]))
    idtag_svc.set_group(session=session, scope=scope, tag="card-1", group="FLEET")
    assert authorize(session=session, charger_id=charger.id, id_tag="CARD-1", now=NOW) == {
        "status": "Accepted", "parentIdTag": "FLEET"}
    idtag_svc.set_status(session=session, scope=scope, tag="FLEET", status="Blocked")
    assert authorize(session=session, charger_id=charger.id, id_tag="CARD-1", now=NOW) == {
        "status": "Blocked", "parentIdTag": "FLEET"}
    assert authorize(session=session, charger_id=charger.id, id_tag="CARD-2", now=NOW) == {"status": "Accepted"}
    assert idtag_svc.group_members(session=session, scope=scope, group="FLEET") == ["CARD-1"]


def test_a_group_must_be_a_tag_of_the_same_organization_and_not_the_tag_itself(session, site):
    org, _ = site
    other = make_org(session, slug="other")
    idtag_svc.create_id_tag(session=session, tag="ELSEWHERE", organization=other)
    admin = scope_for(session, make_user(session, role="admin"))
    with pytest.raises(ValidationError, match="same organization"):
        idtag_svc.set_group(session=session, scope=admin, tag="CARD-1", group="ELSEWHERE")
    with pytest.raises(ValidationError, match="own group"):
        idtag_svc.set_group(session=session, scope=admin, tag="CARD-1", group="card-1")
    scoped = scope_for(session, make_user(session, role="network_manager", orgs=[org]))
    with pytest.raises(NotFound):
        idtag_svc.set_group(session=session, scope=scoped, tag="CARD-1", group="ELSEWHERE")


def test_differential_update_sends_changed_and_removed_tags_only(session, site):
    org, charger = site
    session.add(LocalAuthList(charger_id=charger.id, version=4, entries={
        "CARD-1": {"status": "Accepted"}, "CARD-2": {"status": "Accepted"}, "GONE": {"status": "Accepted"},
        "FLEET": {"status": "Accepted"}}))
    admin = scope_for(session, make_user(session, role="admin"))
    idtag_svc.set_status(session=session, scope=admin, tag="CARD-2", status="Blocked")
    assert local_list.build_update(session, charger.id, "Differential") == {
        "listVersion": 5, "updateType": "Differential",
        "localAuthorizationList": [{"idTag": "CARD-2", "idTagInfo": {"status": "Blocked"}}, {"idTag": "GONE"}]}


def test_a_version_reported_by_the_charger_other_than_the_one_it_accepted_shows_as_a_mismatch(session, site):
    _, charger = site
    session.add(LocalAuthList(charger_id=charger.id, version=3, entries={}, reported_version=2))
    session.commit()
    view = local_list.get_local_list(session=session, scope=scope_for(session, make_user(session, role="admin")),
                                     charger_id=charger.id)
    assert view.mismatch and view.version == 3 and view.reported_version == 2 and view.pending == 3


def test_security_profile_can_only_be_raised_and_to_a_profile_we_serve(session, site):
    _, charger = site
    charger.connected = True
    session.commit()
    admin = scope_for(session, make_user(session, role="admin"))
    for value, message in (("1", "only be raised"), ("0", "only be raised"), ("4", "one of 0, 1, 2, 3")):
        with pytest.raises(ValidationError, match=message):
            create_command(session=session, scope=admin, charger_id=charger.id, action="ChangeConfiguration",
                           payload={"key": "SecurityProfile", "value": value})
    assert session.scalar(select(func.count()).select_from(ChargerCommand)) == 0
    cmd = create_command(session=session, scope=admin, charger_id=charger.id, action="ChangeConfiguration",
                         payload={"key": "SecurityProfile", "value": "2"})
    security_profile.on_answer(session, cmd.id, "ChangeConfiguration", {"status": "Rejected"})
    assert charger.security_profile == 1
    security_profile.on_answer(session, cmd.id, "ChangeConfiguration", {"status": "Accepted"})
    assert charger.security_profile == 2
