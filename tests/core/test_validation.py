"""The shared validators: decimals with no more places than the column keeps, storable text, 32-bit ints."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ValidationError
from core.validation import check_int32, check_text, decimal_in_range


def _rate(value):
    return decimal_in_range(value, "vat_rate", low=Decimal(0), high=Decimal(50), places=3, label="VAT rate (%)")


@pytest.mark.parametrize(("value", "kept"), [("18.123", Decimal("18.123")), ("19.000000", Decimal("19")),
                                             ("1e-3", Decimal("0.001")), ("0E-1000000", Decimal(0)), (7, Decimal(7))])
def test_a_decimal_the_column_can_hold_is_kept_exactly(value, kept):
    assert _rate(value) == kept


@pytest.mark.parametrize(("value", "message"), [
    ("18.1234567890123456789", "VAT rate (%) may have at most 3 decimal places."),
    ("0.00001", "VAT rate (%) may have at most 3 decimal places."),
    ("1e-1000000", "VAT rate (%) may have at most 3 decimal places."),
    ("1e1000000", "VAT rate (%) must be between 0 and 50."),
    ("NaN", "VAT rate (%) must be a number."),
    ("1\x00", "Vat rate contains a character that is not allowed"),
])
def test_a_decimal_with_more_precision_than_stored_is_refused_not_rounded(value, message):
    with pytest.raises(ValidationError) as err:
        _rate(value)
    assert err.value.message.startswith(message)


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b", "\udfff"])
def test_text_postgresql_or_utf8_cannot_hold_is_refused(text):
    with pytest.raises(ValidationError, match="not allowed"):
        check_text(text, "name")
    assert check_text("Zürich 🚗", "name") == "Zürich 🚗"


def test_ints_outside_32_bits_are_refused():
    assert check_int32(2**31 - 1, "id") == 2**31 - 1
    for value in (2**31, -(2**31) - 1):
        with pytest.raises(ValidationError, match="Id must be between -2147483648 and 2147483647."):
            check_int32(value, "id")
