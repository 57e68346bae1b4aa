"""Notifications: charger alerts for staff, messages to app users, the delivery outbox (docs in alerts.py,
outbox.py and customer_messages.py)."""
