"""Human-facing codes: card numbers with a Luhn check digit, coupon codes without look-alike
characters, and compact signed tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# no 0/O, 1/I/L, 2/Z, 5/S, 8/B: a cashier can type what they read
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_digit(number[:-1]) == number[-1]


def card_number(prefix: str, length: int = 16) -> str:
    """A random card number: ``prefix``, random digits, a Luhn check digit."""
    body_len = length - len(prefix) - 1
    body = "".join(secrets.choice("0123456789") for _ in range(body_len))
    head = prefix + body
    return head + luhn_digit(head)


def random_code(length: int = 12) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """What a till typed or scanned: upper case, spaces and dashes removed."""
    return "".join(text.split()).replace("-", "").upper()


def mac(key: bytes, message: bytes, size: int = 10) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()[:size]


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def unb32(text: str) -> bytes:
    pad = "=" * (-len(text) % 8)
    return base64.b32decode(text + pad)
