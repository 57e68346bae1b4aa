"""Customers (issue 9): support links, sign-up, invitations of accounts and sub-accounts, resend, activation,
verification, accounts, assets, plans, claim codes, a customer's own sessions, invoices and reimbursements.

Staff and customer tokens both reach these routes (`PrincipalDep`); the services scope every read and write
through the caller's Scope, so a customer sees only its own account and its sub-accounts.
"""
from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from app.api.csv_export import stream_csv
from app.api.deps import PrincipalDep, SessionDep
from app.api.shapes import InputModel, model_of, rows_to
from core.mail import MailError
from services.access.invitations import LinkError
from services.customers import accounts, assets, billing, sessions, support_links
from services.customers.mail_links import VERIFY

router = APIRouter(tags=["customers"])

AccountOut = model_of(accounts.AccountRow, "AccountOut")
CustomerUserOut = model_of(accounts.CustomerUserRow, "CustomerUserOut")
AccountDetailOut = model_of(accounts.AccountDetail, "AccountDetailOut", exclude=("extra",), account=AccountOut,
                            users=list[CustomerUserOut], sub_accounts=list[AccountOut])
MailResultOut = model_of(accounts.MailResult, "MailResultOut")
AssetOut = model_of(assets.AssetRow, "AssetOut")
PlanOut = model_of(assets.PlanRow, "PlanOut")
SessionOut = model_of(sessions.SessionRow, "SessionOut")
StatementOut = model_of(billing.StatementRow, "StatementOut")
CustomerInvoiceOut = model_of(billing.InvoiceRow, "CustomerInvoiceOut")
PlatformOut = model_of(support_links.Platform, "PlatformOut")
CompanyIn = model_of(accounts.Company, "CompanyIn", base=InputModel)
EnterpriseIn = model_of(accounts.EnterpriseTerms, "EnterpriseIn", base=InputModel)

_MAIL = {502: {"description": "The mail server refused; nothing was saved."}}
_LINK = {422: {"description": "Bad input, or the link is not valid, replaced, expired or used (`reason`)."}}


class SupportLinksOut(BaseModel):
    organization_id: int
    organization: str
    terms_url: str
    terms_version: int
    privacy_url: str
    privacy_version: int
    support_contact: str
    open: bool


class SupportLinksIn(InputModel):
    terms_url: str = ""
    privacy_url: str = ""
    support_contact: str = ""


class SignupIn(InputModel):
    organization: str  # the platform's slug
    email: str
    password: str
    kind: str  # business | consumer
    name: str = ""
    company: CompanyIn | None = None
    accept_terms: bool = False


class InviteAccountIn(InputModel):
    organization_id: int
    email: str
    name: str = ""
    enterprise: EnterpriseIn | None = None
    send_invitation: bool = True


class SubAccountIn(InputModel):
    use: str  # employee | subsidiary
    name: str
    email: str
    kind: str  # business | consumer
    reimbursement_rate: Decimal
    company: CompanyIn | None = None


class ActivateIn(InputModel):
    token: str
    full_name: str
    password: str
    accept_terms: bool = False
    kind: str | None = None
    name: str = ""
    company: CompanyIn | None = None


class VerifyIn(InputModel):
    token: str


class AssetIn(InputModel):
    kind: str  # card | charger
    id_tag: str | None = None
    ocpp_id: str | None = None
    claim_code: str | None = None
    plan_id: int | None = None


class PlanTermsIn(InputModel):
    name: str
    price: Decimal
    interval: str = "month"
    session_fee: Decimal | None = None
    fee_kind: str | None = None
    for_card: bool = True
    for_ac: bool = True
    for_dc: bool = True


class PlanIn(PlanTermsIn):
    organization_id: int


class PlanActiveIn(InputModel):
    active: bool


class AssetPlanIn(InputModel):
    plan_id: int


class ClaimCodeIn(InputModel):
    code: str | None = None


class ClaimCodeOut(BaseModel):
    charger_id: int
    code: str


class ActivatedOut(BaseModel):
    id: int
    email: str
    status: str


def _company(body) -> accounts.Company | None:
    return accounts.Company(**body.company.model_dump()) if body.company else None


def _mail_failed(exc: MailError) -> JSONResponse:
    return JSONResponse({"message": f"{exc} Nothing was saved; try again."}, status_code=502)


def _link_failed(exc: LinkError) -> JSONResponse:
    return JSONResponse({"message": exc.message, "field": "token", "reason": exc.reason}, status_code=422)


def _links_out(v: support_links.SupportLinksView) -> SupportLinksOut:
    return SupportLinksOut(open=v.open, **{k: getattr(v, k) for k in SupportLinksOut.model_fields if k != "open"})


# --- support links and sign-up -----------------------------------------------------------------------------


@router.get("/organizations/{organization_id}/support-links", response_model=SupportLinksOut)
def get_support_links(organization_id: int, session: SessionDep, scope: PrincipalDep):
    return _links_out(support_links.get_links(session=session, scope=scope, organization_id=organization_id))


@router.put("/organizations/{organization_id}/support-links", response_model=SupportLinksOut)
def put_support_links(organization_id: int, body: SupportLinksIn, session: SessionDep, scope: PrincipalDep):
    """Settings → Support links. Until Terms and Privacy are set, sign-up and invitations are closed."""
    return _links_out(support_links.set_links(session=session, scope=scope, organization_id=organization_id,
                                              **body.model_dump()))


@router.get("/customers/platforms", response_model=list[PlatformOut])
def platforms(session: SessionDep):
    """The platforms open for sign-up, with their Terms and Privacy links (no login)."""
    return rows_to(PlatformOut, support_links.open_platforms(session=session))


@router.post("/customers/signup", response_model=MailResultOut, status_code=201, responses=_MAIL)
def signup(body: SignupIn, session: SessionDep):
    """Sign up (no login): the account and its owner, unverified until the mailed link (24 hours) is opened."""
    try:
        return accounts.signup(session=session, organization_slug=body.organization, email=body.email,
                               password=body.password, kind=body.kind, name=body.name, company=_company(body),
                               accept_terms=body.accept_terms)
    except MailError as exc:
        return _mail_failed(exc)


@router.post("/customers/activate", response_model=ActivatedOut, responses=_LINK)
def activate(body: ActivateIn, session: SessionDep):
    """Accept an invitation (no login): name, password, acceptance; the owner of a Standard account also
    completes it (Business with company details, or Consumer)."""
    try:
        user = accounts.activate(session=session, token=body.token, full_name=body.full_name,
                                 password=body.password, accept_terms=body.accept_terms, kind=body.kind,
                                 name=body.name, company=_company(body))
    except LinkError as exc:
        return _link_failed(exc)
    return ActivatedOut(id=user.id, email=user.email, status=user.status)


@router.post("/customers/verify", response_model=ActivatedOut, responses=_LINK)
def verify(body: VerifyIn, session: SessionDep):
    try:
        user = accounts.verify_email(session=session, token=body.token)
    except LinkError as exc:
        return _link_failed(exc)
    return ActivatedOut(id=user.id, email=user.email, status=user.status)


@router.get("/customers/links/{token}", responses=_LINK)
def check_link(token: str, session: SessionDep, purpose: str = Query("invite", pattern="^(invite|verify)$")):
    try:
        info = accounts.check_link(session=session, token=token, purpose=VERIFY if purpose == VERIFY else "invite")
    except LinkError as exc:
        return _link_failed(exc)
    return info.__dict__


# --- accounts and customers (staff; a customer sees its own) ------------------------------------------------


@router.post("/accounts", response_model=MailResultOut, status_code=201, responses=_MAIL)
def invite_account(body: InviteAccountIn, session: SessionDep, scope: PrincipalDep):
    """Accounts → + New account → Standard (or an Enterprise plan) → the customer's email → Send invitation."""
    terms = accounts.EnterpriseTerms(**body.enterprise.model_dump()) if body.enterprise else None
    try:
        return accounts.invite_account(session=session, scope=scope, organization_id=body.organization_id,
                                       email=body.email, name=body.name, enterprise=terms,
                                       send_invitation=body.send_invitation)
    except MailError as exc:
        return _mail_failed(exc)


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(session: SessionDep, scope: PrincipalDep, search: str | None = Query(None, max_length=100),
                  limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10**6)):
    return rows_to(AccountOut, accounts.list_accounts(session=session, scope=scope, search=search, limit=limit,
                                                      offset=offset))


@router.get("/accounts/{account_id}", response_model=AccountDetailOut)
def get_account(account_id: int, session: SessionDep, scope: PrincipalDep):
    return AccountDetailOut.model_validate(accounts.get_account(session=session, scope=scope, account_id=account_id))


@router.post("/accounts/{account_id}/sub-accounts", response_model=MailResultOut, status_code=201, responses=_MAIL)
def invite_sub_account(account_id: int, body: SubAccountIn, session: SessionDep, scope: PrincipalDep):
    """+ Add sub-account: Employee or Subsidiary, name, email, Business or Consumer, reimbursement rate."""
    try:
        return accounts.invite_sub_account(session=session, scope=scope, account_id=account_id, use=body.use,
                                           name=body.name, email=body.email, kind=body.kind,
                                           reimbursement_rate=body.reimbursement_rate, company=_company(body))
    except MailError as exc:
        return _mail_failed(exc)


@router.put("/accounts/{account_id}/enterprise-plan", status_code=204)
def put_enterprise_plan(account_id: int, body: EnterpriseIn, session: SessionDep, scope: PrincipalDep):
    accounts.set_enterprise_plan(session=session, scope=scope, account_id=account_id,
                                 terms=accounts.EnterpriseTerms(**body.model_dump()))
    return Response(status_code=204)


@router.get("/accounts/{account_id}/assets", response_model=list[AssetOut])
def list_assets(account_id: int, session: SessionDep, scope: PrincipalDep):
    return rows_to(AssetOut, assets.list_assets(session=session, scope=scope, account_id=account_id))


@router.post("/accounts/{account_id}/assets", response_model=AssetOut, status_code=201)
def activate_asset(account_id: int, body: AssetIn, session: SessionDep, scope: PrincipalDep):
    """Activate a card (idTag) or a charger (OCPP id + claim code) on the account, on a billing plan."""
    return assets.activate_asset(session=session, scope=scope, account_id=account_id, **body.model_dump())


@router.put("/assets/{asset_id}/plan", response_model=AssetOut)
def change_asset_plan(asset_id: int, body: AssetPlanIn, session: SessionDep, scope: PrincipalDep):
    """Move an active card or charger to another plan on offer, eligible for it; billed from its next renewal."""
    return assets.change_plan(session=session, scope=scope, asset_id=asset_id, plan_id=body.plan_id)


@router.get("/customers", response_model=list[CustomerUserOut])
def list_customers(session: SessionDep, scope: PrincipalDep, search: str | None = Query(None, max_length=100),
                   limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10**6)):
    """Users → Customers."""
    return rows_to(CustomerUserOut, accounts.list_customer_users(session=session, scope=scope, search=search,
                                                                 limit=limit, offset=offset))


@router.post("/customers/{customer_user_id}/resend-invitation", response_model=MailResultOut, responses=_MAIL)
def resend_invitation(customer_user_id: int, session: SessionDep, scope: PrincipalDep):
    """A fresh 24-hour link; the earlier one answers "replaced"."""
    try:
        return accounts.resend_invitation(session=session, scope=scope, customer_user_id=customer_user_id)
    except MailError as exc:
        return _mail_failed(exc)


# --- plans and claim codes -------------------------------------------------------------------------------


@router.get("/plans", response_model=list[PlanOut])
def list_plans(session: SessionDep, scope: PrincipalDep, organization_id: int | None = None,
               offered_only: bool = False):
    """The plan catalogue; a customer gets its platform's plans on offer (`active`)."""
    return rows_to(PlanOut, assets.list_plans(session=session, scope=scope, organization_id=organization_id,
                                              offered_only=offered_only))


@router.post("/plans", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, session: SessionDep, scope: PrincipalDep):
    return assets.create_plan(session=session, scope=scope, **body.model_dump())


@router.put("/plans/{plan_id}", response_model=PlanOut)
def update_plan(plan_id: int, body: PlanTermsIn, session: SessionDep, scope: PrincipalDep):
    """Edit a plan; the assets on it are billed at the new terms from their next renewal."""
    return assets.update_plan(session=session, scope=scope, plan_id=plan_id, **body.model_dump())


@router.put("/plans/{plan_id}/active", response_model=PlanOut)
def set_plan_active(plan_id: int, body: PlanActiveIn, session: SessionDep, scope: PrincipalDep):
    """Deactivate a plan (no longer offered; the assets on it keep it), or offer it again."""
    return assets.set_plan_active(session=session, scope=scope, plan_id=plan_id, active=body.active)


@router.get("/chargers/{charger_id}/claim-code", response_model=ClaimCodeOut)
def get_claim_code(charger_id: int, session: SessionDep, scope: PrincipalDep):
    return ClaimCodeOut(charger_id=charger_id, code=assets.claim_code(session=session, scope=scope,
                                                                      charger_id=charger_id))


@router.put("/chargers/{charger_id}/claim-code", response_model=ClaimCodeOut)
def put_claim_code(charger_id: int, body: ClaimCodeIn, session: SessionDep, scope: PrincipalDep):
    return ClaimCodeOut(charger_id=charger_id, code=assets.set_claim_code(session=session, scope=scope,
                                                                          charger_id=charger_id, code=body.code))


# --- a customer's own view, and the statements and invoices --------------------------------------------------


class SessionPage(BaseModel):
    items: list[SessionOut]
    total: int


@router.get("/me/sessions", response_model=SessionPage)
def my_sessions(session: SessionDep, scope: PrincipalDep, limit: int = Query(50, ge=1, le=1000),
                offset: int = Query(0, ge=0, le=10**6)):
    """A customer's sessions (its own account's and its sub-accounts'), with their cost."""
    rows, total = sessions.list_sessions(session=session, scope=scope, limit=limit, offset=offset)
    return SessionPage(items=rows_to(SessionOut, rows), total=total)


@router.get("/me/sessions.csv", response_class=StreamingResponse)
def my_sessions_csv(scope: PrincipalDep) -> StreamingResponse:
    # A refusal (a staff token here) comes before the first byte, as a 403.
    return stream_csv(scope, lambda db: sessions.iter_csv(session=db, scope=scope), "sessions.csv")


@router.get("/reimbursements", response_model=list[StatementOut])
def list_statements(session: SessionDep, scope: PrincipalDep, account_id: int | None = None):
    return rows_to(StatementOut, billing.list_statements(session=session, scope=scope, account_id=account_id))


@router.post("/reimbursements/{statement_id}/paid", response_model=StatementOut)
def mark_paid(statement_id: int, session: SessionDep, scope: PrincipalDep):
    """An Accounts user marks a reimbursement statement paid."""
    return billing.mark_statement_paid(session=session, scope=scope, statement_id=statement_id)


@router.get("/customer-invoices", response_model=list[CustomerInvoiceOut])
def list_invoices(session: SessionDep, scope: PrincipalDep, account_id: int | None = None):
    return rows_to(CustomerInvoiceOut, billing.list_invoices(session=session, scope=scope, account_id=account_id))


@router.get("/customer-invoices/{invoice_id}.pdf", response_class=Response)
def invoice_pdf(invoice_id: int, session: SessionDep, scope: PrincipalDep) -> Response:
    name, data = billing.invoice_pdf(session=session, scope=scope, invoice_id=invoice_id)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
