"""Customers: the people and companies who charge on a tenant platform (issue 9).

- `support_links`: Settings → Support links; sign-up and invitations stay closed until Terms and Privacy are set.
- `mail_links`: the one-time links mailed to customers (activation, email verification).
- `accounts`: sign-up, invitations, sub-accounts, activation, verification, the account and customer lists.
- `auth`: one login screen for staff and customers; a customer's token and Scope.
- `assets`: billing plans, cards and chargers an account activates, charger claim codes.
- `billing`: subscription invoices and reimbursement statements, made once per period by the worker.
- `sessions`: a customer's own charging sessions and their CSV.
"""
