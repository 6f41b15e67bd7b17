"""Money is integer fen (1 yuan = 100 fen). Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse a yuan amount written by a person ("12.5", "3") into fen, rounding half up."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_fen(fen: int) -> str:
    """12345 -> '¥123.45'; negative amounts keep their sign in front."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{part:02d}"
