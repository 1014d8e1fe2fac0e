"""From SIP final responses (and our own timers) to the CRM's disposition codes (models/call.py DISPOSITIONS)."""
from __future__ import annotations

from typing import Optional

# the customer leg
_CUSTOMER = {
    486: "busy", 600: "busy",                 # 忙
    408: "no_answer", 480: "no_answer",       # 无人接听
    404: "invalid_number", 604: "invalid_number", 484: "invalid_number",  # 空号
}
# the agent leg: an agent who is busy, declines or does not pick up has not answered (坐席未接)
_AGENT_NOT_ANSWERING = {408, 480, 486, 487, 600, 603}


def customer_leg(code: int) -> str:
    """The disposition of a call whose customer leg ended with this final response."""
    return _CUSTOMER.get(code, "failed")


def agent_leg(code: int) -> str:
    """The disposition of a call whose agent leg ended with this final response (before the customer was rung)."""
    return "agent_no_answer" if code in _AGENT_NOT_ANSWERING else "failed"


def raw_cause(code: Optional[int], reason: str = "") -> str:
    """The raw cause kept beside the disposition: 'SIP 486 Busy Here', or our own reason ('timeout', 'CANCEL')."""
    if code is None:
        return reason[:64]
    return f"SIP {code} {reason}".strip()[:64]
