"""Personal data never travels in clear: phones are tokenised to match and masked to show."""

import hashlib
import hmac
import re

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")


def tokenise(value: str, *, key: str) -> str:
    """A keyed, non-reversible token: equal inputs give equal tokens, nothing else leaks."""
    digest = hmac.new(key.encode(), value.strip().encode(), hashlib.sha256).hexdigest()
    return f"pd1:{digest[:32]}"


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits, as officers are shown: 138****5678."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
