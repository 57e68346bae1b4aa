"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""
from models.charger import Charger, Connector, IdTag, Tariff, UnknownCharger
from models.contract import CommissionContract
from models.customer import CustomerAccount, CustomerUser
from models.invitation import MailOutbox, UserToken
from models.invoice import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatusChange
from models.ocpp_runtime import OcppProcess, SessionMeterHigh
from models.ops import AuditLog, ChargerCommand, OcppMessage
from models.organization import Organization
from models.stats import (
    ChargerDayStat,
    ChargerEarnerStat,
    ChargerMonthStat,
    ChargerStartDayStat,
    ChargerStartMonthStat,
    ChargerStartWindowStat,
    ChargerStopDayStat,
    ChargerWindowStat,
    OrgDayStat,
    OrgMonthStat,
    OrgStartDayStat,
    OrgStopDayStat,
    OrgStopHourStat,
    SessionWindowAsOf,
    StartWindowAsOf,
)
from models.tariff_revision import TariffRevision
from models.transaction import ChargerStatusEvent, MeterValue, Transaction
from models.user import LocationOwner, LoginThrottle, User, UserOrganization

__all__ = [
    "AuditLog", "BillingRun", "Charger", "ChargerCommand", "ChargerDayStat", "ChargerEarnerStat", "ChargerMonthStat",
    "ChargerStartDayStat", "ChargerStartMonthStat", "ChargerStartWindowStat", "ChargerStopDayStat",
    "ChargerStatusEvent", "ChargerWindowStat", "CommissionContract", "Connector", "CustomerAccount", "CustomerUser",
    "IdTag", "Invoice", "InvoiceLine",
    "InvoiceNumberSequence", "InvoiceStatusChange", "LocationOwner", "LoginThrottle", "MailOutbox", "MeterValue",
    "OcppMessage", "OrgDayStat", "OrgMonthStat", "OrgStartDayStat", "OrgStopDayStat", "OrgStopHourStat", "Organization",
    "SessionWindowAsOf", "StartWindowAsOf", "Tariff", "TariffRevision", "Transaction",
    "UnknownCharger", "User", "UserOrganization", "UserToken",
]
__all__ += ["OcppProcess", "SessionMeterHigh"]
