"""The webhook signature: X-Signature = hex HMAC-SHA256(secret, "<X-Timestamp>." + body).

The timestamp (Unix seconds, header X-Timestamp) is inside the signed text, so a captured request cannot be
replayed outside the window; the event ids make a replay inside it harmless.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Mapping, Optional

WINDOW_SECONDS = 300


def derived_secret(secret_key: str, purpose: str) -> str:
    """The secret used when none is configured: derived from SECRET_KEY, as the CRM's webhook derives it
    (hex HMAC-SHA256(SECRET_KEY, purpose)), so a CRM and its gateway sharing an instance agree."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: Optional[int] = None) -> dict:
    """The headers that sign `body`."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Timestamp": timestamp, "X-Signature": signature(secret, timestamp, body)}


def refusal(secret: str, headers: Mapping[str, str], body: bytes, now: Optional[float] = None) -> Optional[str]:
    """Why a signed request is refused ("unsigned", "window", "invalid"), or None when it holds: a timestamp of
    digits within WINDOW_SECONDS of now and X-Signature = the HMAC of it and the body."""
    timestamp = headers.get("X-Timestamp") or ""
    given = (headers.get("X-Signature") or "").strip().lower()
    if not timestamp or not given:
        return "unsigned"
    if not secret or not timestamp.isdigit() or len(timestamp) > 12:
        return "invalid"
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_SECONDS:
        return "window"
    return None if hmac.compare_digest(signature(secret, timestamp, body), given) else "invalid"


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: Optional[float] = None) -> bool:
    """True when the signature matches and the timestamp is within the window."""
    return refusal(secret, headers, body, now) is None
