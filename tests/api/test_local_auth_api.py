"""Id-tag groups and the local list through the API: a tag joins a group, the group is blocked, the local list
shows what the charger holds; bad input is a 4xx and changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from models import IdTag, LocalAuthList
from services.charging import idtags as idtag_svc
from tests.utils.factories import make_charger, make_org, make_user


def test_a_tag_joins_a_group_and_blocking_the_group_shows_on_its_members(session, client, auth_header):
    org = make_org(session, slug="fleet-co")
    for tag in ("FLEET", "CARD-1"):
        idtag_svc.create_id_tag(session=session, tag=tag, organization=org)
    session.commit()
    headers = auth_header(make_user(session, role="network_manager", orgs=[org]))
    r = client.put("/api/v1/id-tags/CARD-1/group", json={"group": "fleet"}, headers=headers)
    assert r.status_code == 200 and r.json() == {"tag": "CARD-1", "group": "FLEET", "status": "Accepted"}
    r = client.put("/api/v1/id-tags/FLEET/status", json={"status": "Blocked"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "Blocked"
    charger = make_charger(session, org, ocpp_id="FLEET-CP")
    r = client.get(f"/api/v1/chargers/{charger.id}/local-list", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 0 and body["entries"] == [] and body["pending"] == 2 and body["mismatch"] is False


def test_bad_group_input_is_a_4xx_and_changes_nothing(session, client, auth_header):
    org = make_org(session, slug="fleet-bad")
    idtag_svc.create_id_tag(session=session, tag="CARD-9", organization=org)
    session.commit()
    headers = auth_header(make_user(session, role="network_manager", orgs=[org]))
    assert client.put("/api/v1/id-tags/CARD-9/group", json={"group": "NOPE"}, headers=headers).status_code == 404
    assert client.put("/api/v1/id-tags/CARD-9/group", json={"group": "X" * 21}, headers=headers).status_code == 422
    assert client.put("/api/v1/id-tags/CARD-9/status", json={"status": "Expired"}, headers=headers).status_code == 422
    readonly = auth_header(make_user(session, role="accounts"))
    assert client.put("/api/v1/id-tags/CARD-9/group", json={"group": None}, headers=readonly).status_code == 403
    session.expire_all()
    row = session.execute(select(IdTag).where(IdTag.tag == "CARD-9")).scalar_one()
    assert row.parent_tag is None and row.status == "Accepted"
    assert session.scalar(select(func.count()).select_from(LocalAuthList)) == 0
