"""License identifiers (GB/T 36902), holder id checks, and masking for display.

An identifier is OID-style: ``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>``
— the national prefix, the type's catalogue code, the issuing unit's unified social credit code,
the issuer's serial number for the type, the version (a renewal is the next version of the same
serial) and a check character. The check is ISO/IEC 7064 MOD 37,36 over every letter and digit
before it, so one mistyped character or two swapped neighbours are caught when a number is read
out or typed from paper.
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "PREFIX",
    "check_character",
    "identifier",
    "identifier_valid",
    "mask_id_number",
    "mask_name",
    "mask_number",
    "resident_birth_date",
    "resident_id_valid",
]

PREFIX = "1.2.156.3005.2"
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(text: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (hybrid) check character over the letters and digits of text."""
    product = 36
    for char in text.upper():
        if char not in _ALPHANUMERIC:
            continue
        total = (product + _ALPHANUMERIC.index(char)) % 36 or 36
        product = (total * 2) % 37
    return _ALPHANUMERIC[(37 - product) % 36]


def identifier(type_code: str, issuer_code: str, serial: int, version: int) -> str:
    body = f"{PREFIX}.{type_code}.{issuer_code}.{serial:08d}.{version}"
    return f"{body}.{check_character(body)}"


def identifier_valid(text: str) -> bool:
    body, _, check = text.rpartition(".")
    return body.startswith(PREFIX + ".") and len(check) == 1 and check_character(body) == check


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_valid(number: str) -> bool:
    """A 18-character 公民身份号码 with a correct GB 11643 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return (
        "10X98765432"[total % 11] == number[17].upper() and resident_birth_date(number) is not None
    )


def resident_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; an organisation's name keeps its ends (深圳…公司)."""
    if len(name) <= 1:
        return "*"
    if len(name) > 6:
        return name[:2] + "*" * (len(name) - 4) + name[-2:]
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(number: str) -> str:
    """Keep the first 4 and last 4 characters (4403**********123X)."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_number(number: str) -> str:
    """A licence number: the last 4 characters shown."""
    return "*" * max(0, len(number) - 4) + number[-4:]
