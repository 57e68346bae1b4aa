"""The audit log as the organization page shows it: field labels and names, never raw columns or ids."""
from __future__ import annotations

from services.access.scope import scope_for
from services.billing import org_settings
from services.network import chargers as charger_svc
from state.organization_detail import audit_rows
from tests.utils.factories import make_location_owner, make_org, make_user


def test_the_audit_log_shows_field_labels_and_names_instead_of_ids(session):
    lanka = make_org(session, slug="lanka-charge", timezone="Asia/Colombo")
    berlin = make_org(session, slug="berlin-emobility")
    hotel = make_location_owner(session, berlin, name="Hotel Adlon")
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    charger, _ = charger_svc.create_charger(session=session, scope=scope, user_id=admin.id, ocpp_id="LK-0001",
                                            organization_id=lanka.id, connectors="1")
    charger_svc.update_charger(session=session, scope=scope, user_id=admin.id, charger_id=charger.id,
                               organization_id=berlin.id, location_owner_id=hotel.id, lifecycle_status="Maintenance")
    session.commit()
    rows = audit_rows(org_settings.audit_trail(session=session, scope=scope, org_id=berlin.id), "Europe/Berlin")
    by_field = {r["field"]: (r["old"], r["new"]) for r in rows}
    assert by_field["Organization"] == ("Lanka Charge", "Berlin Emobility")
    assert by_field["Location owner"] == ("—", "Hotel Adlon")
    assert "Lifecycle status" in by_field
    assert {r["what"] for r in rows} == {"Charger changed"}
    created = audit_rows(org_settings.audit_trail(session=session, scope=scope, org_id=lanka.id), "Asia/Colombo")
    assert {"Charger id (OCPP)", "Organization"} <= {r["field"] for r in created}
    assert not {r["field"] for r in rows + created} & {"ocpp_id", "organization_id", "lifecycle_status"}
