"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""
from models.charger import Charger, Connector, IdTag, Tariff, UnknownCharger
from models.invoice import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatusChange
from models.ops import AuditLog, ChargerCommand, OcppMessage
from models.organization import Organization
from models.session import ChargerStatusEvent, MeterValue, Transaction
from models.user import LocationOwner, LoginThrottle, User, UserOrganization

__all__ = [
    "AuditLog", "Charger", "ChargerCommand", "ChargerStatusEvent", "Connector", "IdTag", "LocationOwner",
    "LoginThrottle", "MeterValue", "OcppMessage", "Organization", "Tariff", "Transaction", "UnknownCharger",
    "User", "UserOrganization",
    "BillingRun", "Invoice", "InvoiceLine", "InvoiceNumberSequence", "InvoiceStatusChange",
]
