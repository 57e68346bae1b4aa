"""Payments (issue 10): wallets on a double-entry ledger, payments through gateways, the session money path."""
