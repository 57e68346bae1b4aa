"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""
from models.certificate import ChargerCertificate
from models.charger import Charger, Connector, IdTag, Tariff, UnknownCharger
from models.contract import CommissionContract
from models.customer import CustomerAccount, CustomerUser
from models.customer_access import CustomerAcceptance, CustomerToken, SupportLinks
from models.customer_billing import (
    BillingPlan,
    ChargerClaimCode,
    ChargingAsset,
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerInvoiceSequence,
    CustomerRun,
    EnterprisePlan,
    ReimbursementStatement,
)
from models.firmware import FirmwareImage, FirmwareRollout
from models.grid import DrAction, DrEvent, DrPolicy, GridReading, GridReadingMinute, GridRegion, GridStateEvent
from models.invitation import MailOutbox, UserToken
from models.invoice import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatusChange
from models.local_list import LocalAuthList
from models.notification import (
    Alert,
    AlertCharger,
    AlertRule,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    PushCredential,
    PushDevice,
)
from models.ocpp_runtime import OcppProcess, SessionMeterHigh
from models.ops import AuditLog, ChargerCommand, OcppMessage
from models.organization import Organization
from models.payment import (
    GatewayCall,
    LedgerEntry,
    Payment,
    PaymentCard,
    PaymentEvent,
    PaymentGateway,
    PaymentIntent,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    Wallet,
    WebhookInbox,
)
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
from models.upload import ChargerUpload
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
    # customers (issue 9)
    "BillingPlan", "ChargerClaimCode", "ChargingAsset", "CustomerAcceptance", "CustomerInvoice", "CustomerInvoiceLine",
    "CustomerInvoiceSequence", "CustomerRun", "CustomerToken", "EnterprisePlan", "ReimbursementStatement",
    "SupportLinks",
    "GatewayCall", "LedgerEntry", "Payment", "PaymentCard", "PaymentEvent", "PaymentGateway", "PaymentIntent",
    "ReconciliationMismatch", "ReconciliationRun", "Refund", "Wallet", "WebhookInbox",
    # grid monitor and demand response
    "DrAction", "DrEvent", "DrPolicy", "GridReading", "GridReadingMinute", "GridRegion", "GridStateEvent",
]
__all__ += ["Alert", "AlertCharger", "AlertRule", "Notification", "NotificationDelivery", "NotificationPreference",
            "PushCredential", "PushDevice"]
__all__ += ["ChargerCertificate", "ChargerUpload", "FirmwareImage", "FirmwareRollout", "LocalAuthList"]

# The OEM tier (issue 15).
from models.client import ApiKey, ApiKeyUse, ApiRateWindow, AppConfig, ClientLimits, CustomRole  # noqa: E402

__all__ += ["ApiKey", "ApiKeyUse", "ApiRateWindow", "AppConfig", "ClientLimits", "CustomRole"]
from models.event_log import EventLog  # noqa: E402

__all__ += ["EventLog"]

from models.owner_statement import OwnerStatement  # noqa: E402  (issue 14: commission statements)

__all__ += ["OwnerStatement"]
__all__ += ["OcppProcess", "SessionMeterHigh"]
