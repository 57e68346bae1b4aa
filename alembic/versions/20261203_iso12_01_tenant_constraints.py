"""a charger's tariff and location owner, and a contract's owner and charger, belong to the same organization

Revision ID: iso12_01
Revises: ocpp18b_04
Create Date: 2026-12-03 06:40:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "iso12_01"
down_revision: Union[str, None] = "ocpp18b_04"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A contract names the charger of its own organization when it is made; the charger may later move to another
# organization (its history stays with the old one), so this is checked on the contract's writes only.
CONTRACT_CHARGER = """
CREATE OR REPLACE FUNCTION contract_charger_same_org() RETURNS trigger AS $$
BEGIN
    IF NEW.charger_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM charger c WHERE c.id = NEW.charger_id AND c.organization_id = NEW.organization_id) THEN
        RAISE EXCEPTION 'contract % names charger % of another organization', NEW.id, NEW.charger_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER tr_contract_charger_same_org BEFORE INSERT OR UPDATE OF charger_id, organization_id
    ON commission_contract FOR EACH ROW EXECUTE FUNCTION contract_charger_same_org();
"""


def upgrade() -> None:
    op.execute("SET LOCAL voltdesk.mode = 'system'")
    # Links that already cross organizations (the service refused them, so none are expected) are cleared.
    op.execute("UPDATE charger c SET tariff_id = NULL FROM tariff t"
               " WHERE t.id = c.tariff_id AND t.organization_id <> c.organization_id")
    op.execute("UPDATE charger c SET location_owner_id = NULL FROM location_owner o"
               " WHERE o.id = c.location_owner_id AND o.organization_id <> c.organization_id")
    op.create_unique_constraint("uq_tariff_id_org", "tariff", ["id", "organization_id"])
    op.create_unique_constraint("uq_location_owner_id_org", "location_owner", ["id", "organization_id"])
    op.create_foreign_key("fk_charger_tariff_same_org", "charger", "tariff", ["tariff_id", "organization_id"],
                          ["id", "organization_id"])
    op.create_foreign_key("fk_charger_owner_same_org", "charger", "location_owner",
                          ["location_owner_id", "organization_id"], ["id", "organization_id"])
    op.create_foreign_key("fk_contract_owner_same_org", "commission_contract", "location_owner",
                          ["location_owner_id", "organization_id"], ["id", "organization_id"])
    op.execute(CONTRACT_CHARGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER tr_contract_charger_same_org ON commission_contract")
    op.execute("DROP FUNCTION contract_charger_same_org()")
    op.drop_constraint("fk_contract_owner_same_org", "commission_contract", type_="foreignkey")
    op.drop_constraint("fk_charger_owner_same_org", "charger", type_="foreignkey")
    op.drop_constraint("fk_charger_tariff_same_org", "charger", type_="foreignkey")
    op.drop_constraint("uq_location_owner_id_org", "location_owner", type_="unique")
    op.drop_constraint("uq_tariff_id_org", "tariff", type_="unique")
