"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""
from models.charger import Charger, Connector, IdTag, Tariff, UnknownCharger
from models.contract import CommissionContract
from models.invitation import MailOutbox, UserToken
from models.invoice import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatusChange
from models.ops import AuditLog, ChargerCommand, OcppMessage
from models.organization import Organization
from models.stats import (
    ChargerDayStat,
    ChargerMonthStat,
    ChargerWindowStat,
    OrgDayStat,
    OrgMonthStat,
    SessionWindowAsOf,
)
from models.tariff_revision import TariffRevision
from models.transaction import ChargerStatusEvent, MeterValue, Transaction
from models.user import LocationOwner, LoginThrottle, User, UserOrganization

__all__ = [
    "AuditLog", "BillingRun", "Charger", "ChargerCommand", "ChargerDayStat", "ChargerMonthStat",
    "ChargerStatusEvent", "ChargerWindowStat", "CommissionContract", "Connector", "IdTag", "Invoice", "InvoiceLine",
    "InvoiceNumberSequence", "InvoiceStatusChange", "LocationOwner", "LoginThrottle", "MailOutbox", "MeterValue",
    "OcppMessage", "OrgDayStat", "OrgMonthStat", "Organization", "SessionWindowAsOf", "Tariff", "TariffRevision",
    "Transaction", "UnknownCharger", "User", "UserOrganization", "UserToken",
]
