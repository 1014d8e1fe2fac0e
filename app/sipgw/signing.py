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


def sign(secret: str, body: bytes, timestamp: Optional[int] = None) -> dict:
    """The headers that sign `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Timestamp": str(timestamp), "X-Signature": digest}


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: Optional[float] = None) -> bool:
    """True when the signature matches and the timestamp is within the window."""
    if not secret:
        return False
    signature = headers.get("X-Signature") or ""
    timestamp = headers.get("X-Timestamp") or ""
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return False
    expected = sign(secret, body, int(timestamp))["X-Signature"]
    return hmac.compare_digest(expected, signature)
