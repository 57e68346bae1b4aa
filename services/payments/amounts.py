"""Amounts as the payments domain accepts them: positive, finite, in the right currency, in minor units."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.errors import ValidationError
from core.money import round_money

MAX_AMOUNT = Decimal("100000000")


def check_amount(value: object, currency: str, *, expected_currency: str | None = None,
                 field: str = "amount") -> Decimal:
    """A positive amount with no more decimals than the currency has; refuses zero, negatives, NaN, infinity
    and (when `expected_currency` is given) another currency."""
    if expected_currency is not None and currency != expected_currency:
        raise ValidationError(f"The amount must be in {expected_currency}, not {currency}.", "currency")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip()) if value is not None else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError("Enter the amount as a number, such as 12.50.", field)
    if amount <= 0:
        raise ValidationError("The amount must be more than zero.", field)
    if amount > MAX_AMOUNT:
        raise ValidationError(f"The amount must be at most {MAX_AMOUNT}.", field)
    if amount != round_money(amount, currency):
        raise ValidationError(f"{currency} amounts have at most as many decimals as its minor unit.", field)
    return round_money(amount, currency)
