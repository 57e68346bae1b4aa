"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""
from models.charger import Charger, Connector, IdTag, Tariff, UnknownCharger
from models.contract import CommissionContract
from models.invitation import UserToken
from models.invoice import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatusChange
from models.ops import AuditLog, ChargerCommand, OcppMessage
from models.organization import Organization
from models.session import ChargerStatusEvent, MeterValue, Transaction
from models.stats import ChargerDayStat, OrgDayStat
from models.tariff_revision import TariffRevision
from models.user import LocationOwner, LoginThrottle, User, UserOrganization

__all__ = [
    "AuditLog", "Charger", "ChargerCommand", "ChargerDayStat", "ChargerStatusEvent", "CommissionContract",
    "Connector", "IdTag", "LocationOwner", "LoginThrottle", "MeterValue", "OcppMessage", "OrgDayStat",
    "Organization", "Tariff", "TariffRevision", "Transaction", "UnknownCharger", "User", "UserOrganization",
    "BillingRun", "Invoice", "InvoiceLine", "InvoiceNumberSequence", "InvoiceStatusChange", "UserToken",
]
