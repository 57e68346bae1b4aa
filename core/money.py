"""Money: Decimal amounts rounded once, half-up, to the currency's minor unit."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from core.errors import ValidationError
from core.fmt import MISSING

_CURRENCIES = frozenset(list_currencies())


def validate_currency(code: str) -> str:
    code = (code or "").strip().upper()
    if len(code) != 3 or code not in _CURRENCIES:
        raise ValidationError(f"Unknown currency '{code}'. Use an ISO 4217 code such as USD, EUR or LKR.",
                              "currency")
    return code


@lru_cache(maxsize=512)
def minor_unit(currency: str) -> int:
    # Cached: babel's lookup costs about 10 µs, a tenth of a second for a 10,000-row breakdown.
    return get_currency_precision(currency)


def round_money(amount: Decimal, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-minor_unit(currency))
    return Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal | None, currency: str, locale: str = "en") -> str:
    if amount is None:
        return MISSING
    return format_currency(amount, currency, locale=locale)
