"""Column helpers shared by the tables."""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Numeric, func
from sqlmodel import Field

from core.clock import utcnow


def created_at_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def ts_field(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index),
    )


MONEY = Numeric(20, 4)  # money and rates: exact decimals, rounded by core.money


def money_field(default: str = "0", *, nullable: bool = False) -> Any:
    """Money and rates: exact decimals. Amounts are rounded by core.money."""
    # sa_type, not sa_column: a field declared once in a base (models.invoice.InvoiceAmounts) gets its own
    # column in each table.
    return Field(default=Decimal(default) if default is not None else None, sa_type=MONEY, nullable=nullable)


def rate_field(default: str = "0") -> Any:
    """A percentage 0..100 with three decimals."""
    return Field(default=Decimal(default), sa_column=Column(Numeric(7, 3), nullable=False))


def fk_field(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None) -> Any:
    return Field(
        default=None,
        sa_column=Column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """An enum's values as plain strings, in order: for `in` checks on input and for choices in the UI."""
    return tuple(member.value for member in enum)


def one_of(column: str, values: type[StrEnum], *, name: str) -> CheckConstraint:
    """The CHECK that a text column holds one of an enum's values (the values are what the database stores)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)
