"""One phone module for forms, API, import and the dialer.

Numbers arrive as people type them ('138 0013 8000', '+86 138-0013-8000', fullwidth digits from a Chinese
input method) or as spreadsheets store them (13800138000.0, 1.38001380E+10). Everything is brought to ASCII
digits first, then checked by Google's libphonenumber (the `phonenumbers` package) for mainland China.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Optional

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import PhoneNumberType

from app.errors import CrmError

REGION = "CN"
_SEPARATORS = re.compile(r"[\s\-()（）.·]")
_NUMERIC = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][+]?[0-9]+)?$")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_DIALABLE_TYPES = _MOBILE_TYPES | {PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE,
                                   PhoneNumberType.SHARED_COST, PhoneNumberType.UAN, PhoneNumberType.VOIP}


def ascii_digits(raw) -> str:
    """NFKC folds fullwidth and other compatibility digits ('１３８') to ASCII; other Unicode digits
    (Arabic-Indic, Devanagari, ...) are mapped by their decimal value so they cannot slip past a check."""
    if raw is None:
        return ""
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        return _from_number(str(raw))
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)
    if _NUMERIC.match(text) and ("." in text or "e" in text.lower()):
        return _from_number(text)
    return text


def _from_number(text: str) -> str:
    """13800138000.0 or 1.38001380E+10 as a spreadsheet stores a typed number -> '13800138000'."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value != value.to_integral_value():
        return text
    return str(int(value))


def _strip(raw) -> str:
    text = _SEPARATORS.sub("", ascii_digits(raw))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    return text


def search_digits(raw) -> str:
    """What a search box's text is as a phone number: its ASCII digits ('１３７ 0008' -> '1370008',
    '+86 137…' -> '137…'), or "" when it is not only digits and separators."""
    digits = _strip(raw)
    return digits if digits.isascii() and digits.isdigit() else ""


def normalise_mobile(raw, field: str = "mobile") -> str:
    """A mainland mobile number as 11 ASCII digits, or a CrmError naming the field."""
    digits = _strip(raw)
    if not (len(digits) == 11 and digits.isascii() and digits.isdigit() and digits.startswith("1")):
        raise CrmError(_l("Please enter an 11-digit mainland mobile number."), field=field)
    number = phonenumbers.parse(digits, REGION)
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise CrmError(_l("Please enter an 11-digit mainland mobile number."), field=field)
    return digits


def normalise_optional_mobile(raw, field: str = "mobile") -> Optional[str]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return normalise_mobile(raw, field)


def normalise_dialable(raw, field: str = "number") -> str:
    """A number the dialer may call: a mobile, or a landline with its area code ('021-8888 9999'),
    returned as national digits (landlines keep their leading 0)."""
    digits = _strip(raw)
    if not digits.isascii() or not digits.isdigit() or not 5 <= len(digits) <= 16:
        raise CrmError(_l("This is not a phone number that can be dialed."), field=field)
    try:
        number = phonenumbers.parse(digits, REGION)
    except phonenumbers.NumberParseException:
        raise CrmError(_l("This is not a phone number that can be dialed."), field=field) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _DIALABLE_TYPES:
        raise CrmError(_l("This is not a phone number that can be dialed."), field=field)
    national = str(number.national_number)
    if phonenumbers.number_type(number) in _MOBILE_TYPES and len(national) == 11:
        return national
    return "0" + national if not national.startswith(("400", "800")) else national
