"""Customer accounts: sign-up, invitations (accounts and sub-accounts), resend, activation, verification, and
what staff and customers see of them.

Rules:
- An account belongs to one organization (the tenant platform); an email is unique per organization,
  case-insensitively (emails are stored lower-case, unique index).
- Sign-up and invitations need the organization's Terms and Privacy links (services/customers/support_links.py).
- Business accounts need company details: legal name and billing address.
- A sub-account hangs under a top-level account (one level), used by an Employee or a Subsidiary, with a
  reimbursement rate per kWh in the organization's currency, from 0 to MAX_RATE.
- Writes commit only after the mail left (services/access/invitations.py `_send`): a refused mail saves nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound, ValidationError
from core.validation import check_text, decimal_in_range, required_text, validate_email
from models import (
    ChargingAsset,
    CustomerAcceptance,
    CustomerAccount,
    CustomerToken,
    CustomerUser,
    EnterprisePlan,
    IdTag,
    Organization,
    User,
)
from models.customer import AccountKind, AccountStatus, SubAccountUse
from models.customer_billing import AssetKind
from services.access import audit
from services.access.auth import hash_password
from services.access.invitations import INVITE, LinkError, _clean_name
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.customers import mail_links
from services.customers.mail_links import VERIFY
from services.customers.support_links import CLOSED, SupportLinksView, links_of, require_open

MAX_RATE = Decimal("1000")  # per kWh, any currency: anything above is a typo, not a rate
KINDS = tuple(k.value for k in AccountKind)
USES = tuple(u.value for u in SubAccountUse)


# --- input --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    legal_name: str = ""
    registration_number: str = ""
    vat_number: str = ""
    billing_address: str = ""


def _opt(value: str | None, fld: str, max_len: int) -> str:
    text = check_text((value or "").strip(), fld)
    if len(text) > max_len:
        raise ValidationError(f"{fld.replace('_', ' ').capitalize()} must be at most {max_len} characters.", fld)
    return text


def _kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise ValidationError("Choose Business or Consumer.", "kind")
    return kind


def _company(kind: str, company: Company | None) -> dict[str, str | None]:
    """The company columns: required for Business (legal name, billing address), cleared for Consumer."""
    if kind == AccountKind.CONSUMER:
        return {"legal_name": None, "registration_number": None, "vat_number": None, "billing_address": None}
    c = company or Company()
    values = {"legal_name": _opt(c.legal_name, "legal_name", 200),
              "registration_number": _opt(c.registration_number, "registration_number", 64),
              "vat_number": _opt(c.vat_number, "vat_number", 64),
              "billing_address": _opt(c.billing_address, "billing_address", 500)}
    if not values["legal_name"]:
        raise ValidationError("A Business account needs company details: enter the legal name.", "legal_name")
    if not values["billing_address"]:
        raise ValidationError("A Business account needs company details: enter the billing address.",
                              "billing_address")
    return {k: v or None for k, v in values.items()}


def validate_rate(value: Any) -> Decimal:
    return decimal_in_range(value, "reimbursement_rate", low=Decimal(0), high=MAX_RATE, places=4,
                            label="Reimbursement rate")


def _email_free(session: Session, org_id: int, email: str) -> None:
    if session.execute(select(CustomerUser.id).where(CustomerUser.organization_id == org_id,
                                                     CustomerUser.email == email)).first():
        raise Conflict(f"{email} already has a customer account on this platform.", "email")


def _flush_unique(session: Session, email: str) -> None:
    """Flush; two requests racing for the same email meet the unique index, which answers as a Conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{email} already has a customer account on this platform.", "email") from exc


def _accept(session: Session, user: CustomerUser, links: SupportLinksView, accepted: bool) -> None:
    if not accepted:
        raise ValidationError("Accept the Terms of Use and the Privacy policy to continue.", "accept")
    session.add(CustomerAcceptance(customer_user_id=user.id, terms_url=links.terms_url,
                                   terms_version=links.terms_version, privacy_url=links.privacy_url,
                                   privacy_version=links.privacy_version, accepted_at=utcnow()))


def actor(scope: Scope) -> int | None:
    """The staff user acting, for audit rows and who-sent columns (None: a customer, or the system)."""
    return None if scope.is_customer or not scope.user_id else scope.user_id


def _inviter_name(session: Session, scope: Scope) -> str:
    inviter = session.get(User, scope.user_id) if not scope.is_customer else None
    return (inviter.full_name or inviter.email) if inviter else ""


# --- sign-up ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailResult:
    """What was created and whether its mail went out (False: SMTP is not configured, written to the outbox)."""
    account_id: int
    customer_user_id: int
    email: str
    delivered: bool
    message: str


def _mail_result(account: CustomerAccount, user: CustomerUser, sent, text: str) -> MailResult:
    note = text if sent is None or sent.delivered else f"{text} The mail was not sent: {sent.message}"
    return MailResult(account.id, user.id, user.email, bool(sent and sent.delivered), note)


def signup(*, session: Session, organization_slug: str, email: str, password: str, kind: str, name: str = "",
           company: Company | None = None, accept_terms: bool = False) -> MailResult:
    """A customer signs up on a platform: the account and its owner (unverified), the acceptance of the
    current Terms and Privacy versions, and a verification mail. Commits after the mail left."""
    org = session.execute(select(Organization).where(Organization.slug == (organization_slug or "").strip())
                          ).scalar_one_or_none()
    if org is None:
        raise NotFound("Organization not found.")
    links = require_open(session, org)
    address = validate_email(email)
    password_hash = hash_password(password)
    kind = _kind(kind)
    if not accept_terms:
        raise ValidationError("Accept the Terms of Use and the Privacy policy to continue.", "accept")
    _email_free(session, org.id, address)
    account = CustomerAccount(organization_id=org.id, kind=kind, status=AccountStatus.INVITED,
                              name=_opt(name, "name", 200) or address, **_company(kind, company))
    session.add(account)
    session.flush()
    user = CustomerUser(organization_id=org.id, account_id=account.id, email=address, password_hash=password_hash,
                        status="unverified", role="owner")
    session.add(user)
    _flush_unique(session, address)
    _accept(session, user, links, True)
    token = mail_links.issue(session, user, VERIFY, None)
    sent = mail_links.mail(session, user, VERIFY, token, org.name)
    return _mail_result(account, user, sent, f"Check {address} for the link that verifies your email address.")


# --- invitations --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseTerms:
    price_per_asset: Any
    public_charging: bool = True


def _set_enterprise(session: Session, account: CustomerAccount, terms: EnterpriseTerms) -> None:
    price = decimal_in_range(terms.price_per_asset, "price_per_asset", low=Decimal(0), high=Decimal("1000000"),
                             places=4, label="Price per asset")
    plan = session.get(EnterprisePlan, account.id) or EnterprisePlan(
        account_id=account.id, organization_id=account.organization_id, started_on=utcnow().date())
    plan.price_per_asset, plan.public_charging = price, bool(terms.public_charging)
    session.add(plan)


def invite_account(*, session: Session, scope: Scope, organization_id: int, email: str, name: str = "",
                   enterprise: EnterpriseTerms | None = None, send_invitation: bool = True) -> MailResult:
    """Accounts → + New account: a Standard account (or one on an Enterprise plan) for the customer's email,
    and the activation mail (optional on an Enterprise plan). Admin and Customer Support. Commits."""
    scope.require(Cap.MANAGE_CUSTOMERS)
    org = get_in_scope(session, Organization, organization_id, scope)
    require_open(session, org)
    address = validate_email(email)
    if enterprise is None and not send_invitation:
        raise ValidationError("A Standard account is created by its invitation.", "send_invitation")
    _email_free(session, org.id, address)
    account = CustomerAccount(organization_id=org.id, kind=AccountKind.CONSUMER, status=AccountStatus.INVITED,
                              name=_opt(name, "name", 200) or address)
    session.add(account)
    session.flush()
    user = CustomerUser(organization_id=org.id, account_id=account.id, email=address, status="invited", role="owner")
    session.add(user)
    _flush_unique(session, address)
    if enterprise is not None:
        _set_enterprise(session, account, enterprise)
    audit.record(session=session, user_id=actor(scope), organization_id=org.id, entity="customer_account",
                 entity_id=account.id, action="invite",
                 changes={"email": address, "enterprise": enterprise is not None})
    if not send_invitation:
        session.commit()
        return _mail_result(account, user, None, f"Account created for {address}; no invitation was sent.")
    token = mail_links.issue(session, user, INVITE, actor(scope))
    sent = mail_links.mail(session, user, INVITE, token, org.name, _inviter_name(session, scope))
    return _mail_result(account, user, sent, f"Invitation sent to {address}. The link is valid for 24 hours.")


def set_enterprise_plan(*, session: Session, scope: Scope, account_id: int, terms: EnterpriseTerms) -> None:
    scope.require(Cap.MANAGE_CUSTOMERS)
    account = get_in_scope(session, CustomerAccount, account_id, scope)
    _set_enterprise(session, account, terms)
    session.commit()


def invite_sub_account(*, session: Session, scope: Scope, account_id: int, use: str, name: str, email: str,
                       kind: str, reimbursement_rate: Any, company: Company | None = None) -> MailResult:
    """+ Add sub-account: Employee or Subsidiary, account name, the sub-account user's email, Business or
    Consumer, and a reimbursement rate; then the invitation mail. Commits."""
    scope.require(Cap.MANAGE_CUSTOMERS)
    parent = get_in_scope(session, CustomerAccount, account_id, scope)
    if parent.parent_id is not None:
        raise ValidationError("A sub-account cannot have sub-accounts of its own; add it to the main account.",
                              "account_id")
    org = session.get(Organization, parent.organization_id)
    require_open(session, org)
    if use not in USES:
        raise ValidationError("Choose who will use this account: Employee or Subsidiary.", "use")
    account_name = required_text(name, "name")
    address = validate_email(email)
    kind = _kind(kind)
    rate = validate_rate(reimbursement_rate)
    details = _company(kind, company)
    _email_free(session, org.id, address)
    account = CustomerAccount(organization_id=org.id, parent_id=parent.id, use=use, kind=kind,
                              status=AccountStatus.INVITED, name=account_name, reimbursement_rate=rate, **details)
    session.add(account)
    session.flush()
    user = CustomerUser(organization_id=org.id, account_id=account.id, email=address, status="invited", role="owner")
    session.add(user)
    _flush_unique(session, address)
    audit.record(session=session, user_id=actor(scope), organization_id=org.id, entity="customer_account",
                 entity_id=account.id, action="invite_sub_account",
                 changes={"parent": parent.name, "use": use, "email": address, "rate": rate})
    token = mail_links.issue(session, user, INVITE, actor(scope))
    sent = mail_links.mail(session, user, INVITE, token, org.name, _inviter_name(session, scope))
    return _mail_result(account, user, sent, f"Invitation sent to {address}. The link is valid for 24 hours.")


def _customer_user(session: Session, scope: Scope, customer_user_id: int, *, lock: bool = False) -> CustomerUser:
    row = session.execute(
        select(CustomerUser).join(CustomerAccount, CustomerAccount.id == CustomerUser.account_id)
        .where(CustomerUser.id == customer_user_id, scope.account_filter())
        .with_for_update(of=CustomerUser) if lock else
        select(CustomerUser).join(CustomerAccount, CustomerAccount.id == CustomerUser.account_id)
        .where(CustomerUser.id == customer_user_id, scope.account_filter())).scalar_one_or_none()
    if row is None:
        raise NotFound("Customer not found.")
    return row


def resend_invitation(*, session: Session, scope: Scope, customer_user_id: int) -> MailResult:
    """Users → Customers → Resend invitation: a fresh 24-hour link (activation, or email verification for a
    customer who signed up); the earlier link stops working ("replaced"). Commits."""
    scope.require(Cap.MANAGE_CUSTOMERS)
    user = _customer_user(session, scope, customer_user_id, lock=True)
    purpose = {"invited": INVITE, "unverified": VERIFY}.get(user.status)
    if purpose is None:
        raise Conflict(f"{user.email} has already activated the account." if user.status == "active"
                       else f"{user.email} is disabled.")
    org = session.get(Organization, user.organization_id)
    if purpose == INVITE:
        require_open(session, org)
    account = session.get(CustomerAccount, user.account_id)
    token = mail_links.issue(session, user, purpose, actor(scope))
    audit.record(session=session, user_id=actor(scope), organization_id=org.id, entity="customer_user",
                 entity_id=user.id, action="resend_invitation", changes={"email": user.email})
    sent = mail_links.mail(session, user, purpose, token, org.name, _inviter_name(session, scope))
    return _mail_result(account, user, sent, f"A new link was sent to {user.email}; the earlier one no longer works.")


# --- following a link ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkInfo:
    """What the activation page shows before its form."""
    email: str
    organization: str
    account_name: str
    is_sub_account: bool
    kind: str
    terms_url: str
    privacy_url: str


def check_link(*, session: Session, token: str, purpose: str = INVITE) -> LinkInfo:
    _, user = mail_links.open_link(session, token, purpose, lock=False)
    account = session.get(CustomerAccount, user.account_id)
    org = session.get(Organization, user.organization_id)
    links = links_of(session, org)
    if purpose == INVITE and not links.open:  # the platform closed sign-up since the invitation
        raise LinkError(CLOSED, "closed")
    return LinkInfo(user.email, org.name, account.name, account.parent_id is not None, account.kind,
                    links.terms_url, links.privacy_url)


def _activate_account(session: Session, account: CustomerAccount) -> None:
    account.status = AccountStatus.ACTIVE
    session.add(account)
    unblock_cards(session, account.id)


def unblock_cards(session: Session, account_id: int) -> None:
    """An account can charge once active: its cards' idTags become Accepted (they are Blocked before)."""
    tag_ids = select(ChargingAsset.id_tag_id).where(ChargingAsset.account_id == account_id,
                                                    ChargingAsset.kind == AssetKind.CARD,
                                                    ChargingAsset.deactivated_at.is_(None))
    for tag in session.execute(select(IdTag).where(IdTag.id.in_(tag_ids))).scalars():
        tag.status = "Accepted"
        session.add(tag)


def activate(*, session: Session, token: str, full_name: str, password: str, accept_terms: bool,
             kind: str | None = None, name: str = "", company: Company | None = None) -> CustomerUser:
    """Accept an invitation: name, password and acceptance of the links; the owner of a Standard account also
    says Business or Consumer (with company details for Business). The link is used up. Commits."""
    person = _clean_name(full_name)
    password_hash = hash_password(password)
    row, user = mail_links.open_link(session, token, INVITE, lock=True)
    account = session.get(CustomerAccount, user.account_id, with_for_update=True)
    org = session.get(Organization, user.organization_id)
    links = require_open(session, org)
    # Everything is checked before the account changes: a refused activation changes nothing.
    changes: dict[str, Any] = {}
    if account.parent_id is None:  # a Standard account is completed by its customer
        account_kind = _kind(kind)
        changes = {"kind": account_kind, "name": _opt(name, "name", 200) or account.name,
                   **_company(account_kind, company)}
    elif company is not None and account.kind == AccountKind.BUSINESS:
        changes = _company(account.kind, company)
    _accept(session, user, links, accept_terms)
    for key, value in changes.items():
        setattr(account, key, value)
    now = utcnow()
    user.full_name, user.password_hash, user.status = person, password_hash, "active"
    user.email_verified_at, user.token_version = now, user.token_version + 1
    row.used_at = now
    session.add_all([user, row])
    _activate_account(session, account)
    session.commit()
    return user


def verify_email(*, session: Session, token: str) -> CustomerUser:
    """The sign-up verification link: the user becomes active and the account can charge. Commits."""
    row, user = mail_links.open_link(session, token, VERIFY, lock=True)
    now = utcnow()
    user.status, user.email_verified_at = "active", now
    row.used_at = now
    session.add_all([user, row])
    _activate_account(session, session.get(CustomerAccount, user.account_id, with_for_update=True))
    session.commit()
    return user


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    id: int
    organization_id: int
    organization: str
    name: str
    kind: str
    use: str | None
    status: str
    parent_id: int | None
    parent_name: str | None
    owner_email: str
    sub_accounts: int
    assets: int
    enterprise: bool
    reimbursement_rate: Decimal | None
    currency: str
    created_at: datetime


def _rows(session: Session, where: list[Any], limit: int, offset: int = 0) -> list[AccountRow]:
    parent = CustomerAccount.__table__.alias("parent")
    subs = CustomerAccount.__table__.alias("subs")
    owner = (select(func.min(CustomerUser.email)).where(CustomerUser.account_id == CustomerAccount.id)
             .correlate(CustomerAccount).scalar_subquery())
    sub_count = (select(func.count()).select_from(subs).where(subs.c.parent_id == CustomerAccount.id)
                 .correlate(CustomerAccount).scalar_subquery())
    assets = (select(func.count()).select_from(ChargingAsset).where(
        ChargingAsset.account_id == CustomerAccount.id, ChargingAsset.deactivated_at.is_(None))
        .correlate(CustomerAccount).scalar_subquery())
    enterprise = (select(func.count()).select_from(EnterprisePlan)
                  .where(EnterprisePlan.account_id == CustomerAccount.id)
                  .correlate(CustomerAccount).scalar_subquery())
    stmt = (select(CustomerAccount, Organization.name, Organization.currency, parent.c.name, owner, sub_count,
                   assets, enterprise)
            .join(Organization, Organization.id == CustomerAccount.organization_id)
            .outerjoin(parent, parent.c.id == CustomerAccount.parent_id)
            .where(*where).order_by(func.coalesce(parent.c.name, CustomerAccount.name), CustomerAccount.parent_id
                                    .nulls_first(), CustomerAccount.name, CustomerAccount.id)
            .limit(limit).offset(offset))
    return [AccountRow(a.id, a.organization_id, org_name, a.name, a.kind, a.use, a.status, a.parent_id, pname,
                       owner_email or "", subs_n, assets_n, bool(ent), a.reimbursement_rate, currency, a.created_at)
            for a, org_name, currency, pname, owner_email, subs_n, assets_n, ent in session.execute(stmt)]


def _search(search: str | None) -> list[Any]:
    text = check_text((search or "").strip(), "search")[:100]
    if not text:
        return []
    like = f"%{text.lower()}%"
    emails = select(CustomerUser.account_id).where(CustomerUser.email.like(like))
    return [or_(func.lower(CustomerAccount.name).like(like), CustomerAccount.id.in_(emails))]


def _require_view(scope: Scope) -> None:
    if not scope.is_customer:
        scope.require(Cap.VIEW_CUSTOMERS)


def list_accounts(*, session: Session, scope: Scope, search: str | None = None, limit: int = 50,
                  offset: int = 0) -> list[AccountRow]:
    """Accounts with their sub-accounts right under them; staff see their organizations', a customer its own."""
    _require_view(scope)
    return _rows(session, [scope.account_filter(), *_search(search)], min(max(limit, 1), 200), max(offset, 0))


def count_accounts(*, session: Session, scope: Scope, search: str | None = None) -> int:
    _require_view(scope)
    return session.execute(select(func.count()).select_from(CustomerAccount)
                           .where(scope.account_filter(), *_search(search))).scalar_one()


@dataclass(frozen=True)
class CustomerUserRow:
    id: int
    email: str
    full_name: str
    status: str
    role: str
    account_id: int
    account: str
    organization: str
    link_expires_at: datetime | None  # the open invitation or verification link, if any


@dataclass(frozen=True)
class AccountDetail:
    account: AccountRow
    legal_name: str
    registration_number: str
    vat_number: str
    billing_address: str
    users: list[CustomerUserRow]
    sub_accounts: list[AccountRow]
    enterprise_price: Decimal | None
    public_charging: bool | None
    links_open: bool
    extra: dict = field(default_factory=dict)


def list_customer_users(*, session: Session, scope: Scope, search: str | None = None, account_id: int | None = None,
                        limit: int = 50, offset: int = 0) -> list[CustomerUserRow]:
    """Users → Customers: the people who log in to customer accounts."""
    _require_view(scope)
    open_link = (select(func.max(CustomerToken.expires_at)).where(
        CustomerToken.customer_user_id == CustomerUser.id, CustomerToken.used_at.is_(None),
        CustomerToken.revoked_at.is_(None)).correlate(CustomerUser).scalar_subquery())
    where = [scope.account_filter()]
    text = check_text((search or "").strip(), "search")[:100]
    if text:
        like = f"%{text.lower()}%"
        where.append(or_(CustomerUser.email.like(like), func.lower(CustomerUser.full_name).like(like),
                         func.lower(CustomerAccount.name).like(like)))
    if account_id is not None:
        where.append(CustomerUser.account_id == account_id)
    stmt = (select(CustomerUser, CustomerAccount.name, Organization.name, open_link)
            .join(CustomerAccount, CustomerAccount.id == CustomerUser.account_id)
            .join(Organization, Organization.id == CustomerUser.organization_id)
            .where(*where).order_by(CustomerUser.email).limit(min(max(limit, 1), 200)).offset(max(offset, 0)))
    return [CustomerUserRow(u.id, u.email, u.full_name, u.status, u.role, u.account_id, acc, org,
                            expires if u.status in ("invited", "unverified") else None)
            for u, acc, org, expires in session.execute(stmt)]


def get_customer_user(*, session: Session, scope: Scope, customer_user_id: int) -> CustomerUserRow:
    _require_view(scope)
    user = _customer_user(session, scope, customer_user_id)
    rows = list_customer_users(session=session, scope=scope, account_id=user.account_id, limit=200)
    return next(r for r in rows if r.id == user.id)


def get_account(*, session: Session, scope: Scope, account_id: int) -> AccountDetail:
    _require_view(scope)
    a = get_in_scope(session, CustomerAccount, account_id, scope)
    row = _rows(session, [CustomerAccount.id == a.id], 1)[0]
    subs = _rows(session, [CustomerAccount.parent_id == a.id, scope.account_filter()], 200)
    plan = session.get(EnterprisePlan, a.id)
    org = session.get(Organization, a.organization_id)
    from_links = require_open_quiet(session, org)
    return AccountDetail(row, a.legal_name or "", a.registration_number or "", a.vat_number or "",
                         a.billing_address or "",
                         list_customer_users(session=session, scope=scope, account_id=a.id, limit=200), subs,
                         plan.price_per_asset if plan else None, plan.public_charging if plan else None, from_links)


def require_open_quiet(session: Session, org: Organization) -> bool:
    try:
        require_open(session, org)
        return True
    except ValidationError:
        return False


def require_manage(scope: Scope) -> None:
    """A customer acts on the accounts of its own scope; staff need MANAGE_CUSTOMERS."""
    if not scope.is_customer:
        scope.require(Cap.MANAGE_CUSTOMERS)
