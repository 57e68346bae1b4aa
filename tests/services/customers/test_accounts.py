"""Sign-up, invitations, sub-accounts, resend and activation: mailed one-time links over a real SMTP server."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.clock import clock
from core.errors import Conflict, NotFound, ValidationError
from models import CustomerAcceptance, CustomerAccount, CustomerToken, CustomerUser
from services.access.auth import AuthError, user_from_token
from services.access.invitations import LinkError
from services.access.permissions import Cap, PermissionDenied
from services.customers import accounts, support_links
from services.customers.auth import customer_principal, login
from services.customers.mail_links import VERIFY
from tests.services.customers.conftest import T0
from tests.utils.customers import CUSTOMER_PASSWORD, active_customer, open_signup, token_from

BIZ = accounts.Company("Acme Logistics GmbH", "HRB 12345", "DE123456789", "Hafenstr. 1, 20457 Hamburg")


def signup(session, org, email="eve@x.test", **kw):
    args = dict(organization_slug=org.slug, email=email, password=CUSTOMER_PASSWORD, kind="consumer",
                accept_terms=True)
    return accounts.signup(session=session, **{**args, **kw})


def test_sign_up_is_closed_until_terms_and_privacy_are_set_then_verifies_by_mail(session, world, smtp):
    with pytest.raises(ValidationError, match="closed until the Terms of Use and Privacy policy"):
        signup(session, world["alpha"])
    support_links.set_links(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                            terms_url="https://alpha.test/terms", privacy_url="", support_contact="")
    with pytest.raises(ValidationError, match="closed"):
        signup(session, world["alpha"])
    open_signup(session, world["scope"], world["alpha"])
    result = signup(session, world["alpha"], email="Eve@X.test")
    assert result.delivered and result.email == "eve@x.test"
    acceptance = session.execute(select(CustomerAcceptance)).scalar_one()
    assert (acceptance.terms_url, acceptance.terms_version) == ("https://example.test/terms", 2)
    assert (acceptance.privacy_url, acceptance.privacy_version) == ("https://example.test/privacy", 1)
    # Unverified: no login (and so no charging) until the mailed link is opened.
    with pytest.raises(AuthError, match="Verify your email"):
        login(session=session, email="eve@x.test", password=CUSTOMER_PASSWORD)
    token = token_from(smtp.wait_for("eve@x.test"), VERIFY)
    user = accounts.verify_email(session=session, token=token)
    assert user.status == "active" and session.get(CustomerAccount, user.account_id).status == "active"
    answer = login(session=session, email="EVE@x.test", password=CUSTOMER_PASSWORD)
    assert answer.kind == "customer"
    with pytest.raises(LinkError) as used:
        accounts.verify_email(session=session, token=token)
    assert used.value.reason == "used"


def test_a_customer_token_never_opens_the_staff_side(session, world):
    open_signup(session, world["scope"], world["alpha"])
    active_customer(session, world["alpha"], "cleo@x.test")
    token = login(session=session, email="cleo@x.test", password=CUSTOMER_PASSWORD).token
    with pytest.raises(AuthError):
        user_from_token(session=session, token=token)
    user, scope = customer_principal(session=session, token=token)
    assert scope.role is None and not any(scope.can(cap) for cap in Cap)


def test_signup_refuses_bad_input_and_changes_nothing(session, world):
    open_signup(session, world["scope"], world["alpha"])
    cases = [dict(email="not-an-email"), dict(password="short"), dict(kind="alien"), dict(accept_terms=False),
             dict(kind="business"), dict(kind="business", company=accounts.Company(legal_name="Acme"))]
    for case in cases:
        with pytest.raises(ValidationError):
            signup(session, world["alpha"], **case)
    assert session.execute(select(CustomerUser)).first() is None
    with pytest.raises(NotFound):
        signup(session, world["alpha"], organization_slug="nope")


def test_an_email_is_unique_per_organization_case_insensitively(session, world):
    open_signup(session, world["scope"], world["alpha"])
    open_signup(session, world["admin"], world["bravo"])
    signup(session, world["alpha"], email="dup@x.test")
    with pytest.raises(Conflict, match="already has a customer account"):
        signup(session, world["alpha"], email="DUP@x.test")
    with pytest.raises(Conflict):
        accounts.invite_account(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                                email="Dup@X.test")
    signup(session, world["bravo"], email="dup@x.test")  # another platform: another customer
    assert session.execute(select(CustomerUser.organization_id).order_by(CustomerUser.id)).scalars().all() == [
        world["alpha"].id, world["bravo"].id]


def test_invited_customer_completes_a_business_account_once(session, world, smtp):
    open_signup(session, world["scope"], world["alpha"])
    accounts.invite_account(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                            email="ops@acme.test")
    token = token_from(smtp.wait_for("ops@acme.test"))
    info = accounts.check_link(session=session, token=token)
    assert info.terms_url == "https://example.test/terms" and not info.is_sub_account
    with pytest.raises(ValidationError, match="company details"):
        accounts.activate(session=session, token=token, full_name="Olga Ops", password=CUSTOMER_PASSWORD,
                          accept_terms=True, kind="business", name="Acme")
    with pytest.raises(ValidationError, match="Accept the Terms"):
        accounts.activate(session=session, token=token, full_name="Olga Ops", password=CUSTOMER_PASSWORD,
                          accept_terms=False, kind="business", name="Acme", company=BIZ)
    user = accounts.activate(session=session, token=token, full_name="Olga Ops", password=CUSTOMER_PASSWORD,
                             accept_terms=True, kind="business", name="Acme", company=BIZ)
    account = session.get(CustomerAccount, user.account_id)
    assert (account.kind, account.legal_name, account.status) == ("business", "Acme Logistics GmbH", "active")
    with pytest.raises(LinkError) as again:
        accounts.activate(session=session, token=token, full_name="X", password=CUSTOMER_PASSWORD,
                          accept_terms=True, kind="consumer")
    assert again.value.reason == "used"
    assert session.get(CustomerAccount, user.account_id).kind == "business"  # the reused link changed nothing


def test_resend_replaces_the_link_and_an_expired_link_says_so(session, world, smtp):
    open_signup(session, world["scope"], world["alpha"])
    first = accounts.invite_account(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                                    email="late@x.test")
    old = token_from(smtp.wait_for("late@x.test"))
    accounts.resend_invitation(session=session, scope=world["scope"], customer_user_id=first.customer_user_id)
    new = token_from(smtp.wait_for("late@x.test", 2))
    with pytest.raises(LinkError) as replaced:
        accounts.check_link(session=session, token=old)
    assert replaced.value.reason == "replaced" and "replaced by a newer invitation" in replaced.value.message
    clock.set(T0 + timedelta(hours=24, seconds=1))
    with pytest.raises(LinkError) as expired:
        accounts.activate(session=session, token=new, full_name="Late", password=CUSTOMER_PASSWORD,
                          accept_terms=True, kind="consumer")
    assert expired.value.reason == "expired" and "24 hours" in expired.value.message
    assert session.get(CustomerUser, first.customer_user_id).status == "invited"
    with pytest.raises(LinkError) as invalid:
        accounts.check_link(session=session, token="x" * 43)
    assert invalid.value.reason == "invalid"


def test_invitations_need_the_right_role_and_open_links(session, world):
    with pytest.raises(ValidationError, match="closed"):
        accounts.invite_account(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                                email="a@x.test")
    open_signup(session, world["admin"], world["bravo"])
    with pytest.raises(PermissionDenied):
        accounts.invite_account(session=session, scope=world["cpo_bravo"], organization_id=world["bravo"].id,
                                email="a@x.test")
    with pytest.raises(NotFound):  # another organization than the support user's
        accounts.invite_account(session=session, scope=world["scope"], organization_id=world["bravo"].id,
                                email="a@x.test")


def test_sub_accounts_refuse_bad_rates_and_business_without_company_details(session, world, smtp):
    open_signup(session, world["scope"], world["alpha"])
    parent = active_customer(session, world["alpha"], "boss@acme.test", kind="business")

    def add(**kw):
        args = dict(account_id=parent.account_id, use="employee", name="Ann Employee", email="ann@acme.test",
                    kind="consumer", reimbursement_rate="0.30")
        return accounts.invite_sub_account(session=session, scope=world["scope"], **{**args, **kw})

    for rate in ("-0.01", "1000000", "abc", "0.123456", "NaN"):
        with pytest.raises(ValidationError, match="Reimbursement rate"):
            add(reimbursement_rate=rate)
    with pytest.raises(ValidationError, match="company details"):
        add(kind="business")
    with pytest.raises(ValidationError, match="Employee or Subsidiary"):
        add(use="boss")
    assert session.execute(select(CustomerAccount).where(CustomerAccount.parent_id.is_not(None))).first() is None
    made = add()
    sub = session.get(CustomerAccount, made.account_id)
    assert (sub.parent_id, sub.use, sub.reimbursement_rate) == (parent.account_id, "employee", Decimal("0.30"))
    assert "/customer/activate/" in smtp.wait_for("ann@acme.test").get_body(("plain",)).get_content()
    with pytest.raises(ValidationError, match="cannot have sub-accounts"):
        add(account_id=sub.id, email="deeper@acme.test")


def test_a_customer_sees_only_its_own_account_and_sub_accounts(session, world):
    open_signup(session, world["scope"], world["alpha"])
    boss = active_customer(session, world["alpha"], "boss@acme.test", kind="business")
    other = active_customer(session, world["alpha"], "other@x.test")
    accounts.invite_sub_account(session=session, scope=world["scope"], account_id=boss.account_id,
                                use="subsidiary", name="Acme Sub", email="sub@acme.test", kind="consumer",
                                reimbursement_rate="0.25")
    token = login(session=session, email="boss@acme.test", password=CUSTOMER_PASSWORD).token
    _, scope = customer_principal(session=session, token=token)
    names = [r.name for r in accounts.list_accounts(session=session, scope=scope)]
    assert sorted(names) == ["Acme Sub", "Boss"]
    with pytest.raises(NotFound):
        accounts.get_account(session=session, scope=scope, account_id=other.account_id)
    assert [r.name for r in accounts.list_accounts(session=session, scope=world["cpo_bravo"])] == []
    assert len(accounts.list_accounts(session=session, scope=world["scope"])) == 3
    with pytest.raises(PermissionDenied):  # no staff capability reaches a customer
        accounts.invite_sub_account(session=session, scope=scope, account_id=boss.account_id, use="employee",
                                    name="X", email="x@acme.test", kind="consumer", reimbursement_rate="0.1")


def test_links_are_stored_hashed(session, world, smtp):
    open_signup(session, world["scope"], world["alpha"])
    accounts.invite_account(session=session, scope=world["scope"], organization_id=world["alpha"].id,
                            email="h@x.test")
    token = token_from(smtp.wait_for("h@x.test"))
    stored = session.execute(select(CustomerToken.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
