"""One callback (双呼) as third-party call control, RFC 3725 flow I (late offer).

    gateway -> agent:    INVITE (no SDP)             agent rings, answers 200 with its offer (ACK held)
    gateway -> customer: INVITE (the agent's offer)  customer rings, answers 200 with its answer; ACK
    gateway -> agent:    ACK (the customer's answer) the two phones now talk to each other directly

Either side's BYE ends the other leg; a failed or unanswered customer leg first ACKs the agent's 200 (with
every stream refused) and then BYEs it. Everything here runs on sippy's event loop thread (ED2): other threads
reach a call only through ED2.callFromThread / callFromThreadSync.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Callable, Optional

from sippy.CCEvents import (CCEventConnect, CCEventDisconnect, CCEventFail, CCEventPreConnect, CCEventRing,
                            CCEventTry)
from sippy.MsgBody import MsgBody
from sippy.SipCallId import SipCallId
from sippy.Time.Timeout import Timeout
from sippy.UA import UA

from app.sipgw import dispositions

log = logging.getLogger(__name__)

AGENT_CALLING, CUSTOMER_CALLING, BRIDGED, ENDED = "agent_calling", "customer_calling", "bridged", "ended"
BYE_AFTER_ACK = 0.2  # seconds


@dataclass
class Trunk:
    host: str
    port: int
    transport: str = "udp"
    username: Optional[str] = None
    password: Optional[str] = None


@dataclass
class Timeouts:
    agent_ring: float = 30.0      # the agent's phone rings this long before the call counts as 坐席未接
    customer_ring: float = 30.0   # below the agent phone's 32 s wait for our ACK (Timer H), see the README


def _iso(ts: Optional[float]) -> Optional[str]:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds")


def refused_answer(offer: MsgBody) -> MsgBody:
    """An SDP answer that refuses every stream of the offer (port 0): what the agent gets in the ACK of a call
    whose customer never answered, so its INVITE transaction completes before the BYE."""
    text = re.sub(r"^m=(\S+) \d+", r"m=\1 0", str(offer), flags=re.M)
    return MsgBody(text, mtype="application/sdp")


class Callback:
    """The two legs of one callback and what is reported about them."""

    def __init__(self, call_id: str, agent_number: str, customer_number: str, caller_id: str, call_ref: str,
                 global_config: dict, trunk: Trunk, timeouts: Timeouts, emit: Callable[[dict], None],
                 on_finished: Callable[["Callback"], None] = lambda call: None, seat: str = ""):
        self.call_id = call_id
        self.seat = seat
        self.agent_number = agent_number
        self.customer_number = customer_number
        self.caller_id = caller_id
        self.call_ref = call_ref
        self.global_config = global_config
        self.trunk = trunk
        self.timeouts = timeouts
        self._emit = emit
        self._on_finished = on_finished
        self.state = AGENT_CALLING
        self.agent: Optional[UA] = None
        self.customer: Optional[UA] = None
        self.agent_offer: Optional[MsgBody] = None
        self.seq = 0
        self.times: dict[str, Optional[float]] = dict.fromkeys(
            ("created", "agent_invite", "agent_ringing", "agent_answered", "customer_invite", "customer_ringing",
             "answered", "ended"))
        self.disposition: Optional[str] = None
        self.raw_cause: Optional[str] = None
        self.hangup_by: Optional[str] = None

    # -- reporting -----------------------------------------------------------------------------------------
    def _report(self, kind: str, at: float, **fields) -> None:
        """One event in the CRM webhook's shape (app/telephony/providers.py parse_event): a flat object with
        call_id, event, event_id, at, and the call's figures beside them."""
        self.seq += 1
        self._emit({
            "call_id": self.call_id, "event": kind, "event_id": f"{self.call_id}:{self.seq}", "at": _iso(at),
            "seq": self.seq, "provider": "sip_callback", "call_ref": self.call_ref, "seat": self.seat,
            "agent_number": self.agent_number, "customer_number": self.customer_number,
            "display_line": self.caller_id, **fields,
        })

    def summary(self) -> dict:
        """Times, ring and talk seconds as the ended event carries them."""
        t = self.times
        ring_from = t["customer_ringing"] or t["customer_invite"]
        ring_to = t["answered"] or t["ended"]
        ring = max(0.0, ring_to - ring_from) if ring_from and ring_to else 0.0
        talk = max(0.0, t["ended"] - t["answered"]) if t["answered"] and t["ended"] else 0.0
        return {
            "disposition": self.disposition, "raw_cause": self.raw_cause, "hangup_by": self.hangup_by,
            "created_at": _iso(t["created"]), "agent_ringing_at": _iso(t["agent_ringing"]),
            "agent_answered_at": _iso(t["agent_answered"]), "customer_ringing_at": _iso(t["customer_ringing"]),
            "answered_at": _iso(t["answered"]), "ended_at": _iso(t["ended"]),
            # whole seconds as the record keeps them (rounded; a connected call talks at least 1 s)
            "ring_seconds": int(round(ring)), "talk_seconds": max(1, int(round(talk))) if talk > 0 else 0,
            "ring_ms": int(ring * 1000), "talk_ms": int(talk * 1000),
            "setup_ms": int((t["answered"] - t["agent_invite"]) * 1000) if t["answered"] else None,
        }

    def status(self) -> dict:
        return {"call_id": self.call_id, "state": self.state, **self.summary()}

    # -- the legs ------------------------------------------------------------------------------------------
    def _new_ua(self, event_cb, expire_time: float) -> UA:
        return UA(self.global_config, event_cb=event_cb, nh_address=(self.trunk.host, self.trunk.port),
                  username=self.trunk.username, password=self.trunk.password, expire_time=expire_time)

    def _invite(self, ua: UA, number: str, body: Optional[MsgBody]) -> None:
        ua.recvEvent(CCEventTry((SipCallId(), self.caller_id, number, body, None, self.caller_id)))

    def start(self) -> None:
        now = time.time()
        self.times["created"] = self.times["agent_invite"] = now
        self._report("created", now)
        self.agent = self._new_ua(self._agent_event, self.timeouts.agent_ring)
        self._invite(self.agent, self.agent_number, None)

    def _start_customer_leg(self) -> None:
        self.state = CUSTOMER_CALLING
        self.times["customer_invite"] = time.time()
        self.customer = self._new_ua(self._customer_event, self.timeouts.customer_ring)
        self._invite(self.customer, self.customer_number, self.agent_offer.getCopy())

    def _agent_event(self, event, ua) -> None:
        if self.state == ENDED:
            return
        if isinstance(event, CCEventRing):
            code = event.getData()[0]
            if code in (180, 183) and self.times["agent_ringing"] is None:
                self.times["agent_ringing"] = time.time()
                self._report("agent_ringing", self.times["agent_ringing"])
        elif isinstance(event, CCEventPreConnect):
            self.times["agent_answered"] = time.time()
            self.agent_offer = event.getData()[2]
            if self.agent_offer is None:  # cannot happen with late_media, kept for safety
                self._close_agent()
                self._finish("failed", dispositions.raw_cause(None, "agent answered without SDP"), "system")
                return
            self._report("agent_answered", self.times["agent_answered"])
            self._start_customer_leg()
        elif isinstance(event, CCEventConnect):
            if self.state == AGENT_CALLING:
                # a 200 without an offer: nothing to give the customer (late offer needs the agent's SDP)
                self.agent.recvEvent(CCEventDisconnect())
                self._finish("failed", dispositions.raw_cause(None, "agent answered without SDP"), "system")
        elif isinstance(event, CCEventFail):
            code, reason = event.getData()[:2]
            self._finish(dispositions.agent_leg(code), dispositions.raw_cause(code, reason),
                         "agent" if code in (486, 600, 603) else "system")
        elif isinstance(event, CCEventDisconnect):
            if self.state == AGENT_CALLING:  # our ring timer fired, sippy sent CANCEL
                self._finish("agent_no_answer", "timeout", "system")
            elif self.state == CUSTOMER_CALLING:  # the agent gave up while the customer was ringing
                self._hangup_leg(self.customer)
                self._finish("cancelled", "CANCEL", "agent")
            elif self.state == BRIDGED:
                self._hangup_leg(self.customer)
                self._finish("answered", dispositions.raw_cause(200, "OK"), "agent")

    def _customer_event(self, event, ua) -> None:
        if self.state == ENDED:
            return
        if isinstance(event, CCEventRing):
            code = event.getData()[0]
            if code in (180, 183) and self.times["customer_ringing"] is None:
                self.times["customer_ringing"] = time.time()
                self._report("customer_ringing", self.times["customer_ringing"])
        elif isinstance(event, CCEventConnect):
            answer = event.getData()[2]
            if answer is None:
                self._hangup_leg(self.customer)
                self._close_agent()
                self._finish("failed", dispositions.raw_cause(None, "customer answered without SDP"), "system")
                return
            self.agent.recvEvent(CCEventConnect((200, "OK", answer.getCopy())))  # the agent's ACK, with the answer
            self.state = BRIDGED
            self.times["answered"] = time.time()
            self._report("answered", self.times["answered"], setup_ms=self.summary()["setup_ms"])
        elif isinstance(event, CCEventFail):
            code, reason = event.getData()[:2]
            self._close_agent()
            self._finish(dispositions.customer_leg(code), dispositions.raw_cause(code, reason),
                         "customer" if code in (486, 600, 603) else "system")
        elif isinstance(event, CCEventDisconnect):
            if self.state == CUSTOMER_CALLING:  # our ring timer fired, sippy sent CANCEL
                self._close_agent()
                self._finish("no_answer", "timeout", "system")
            elif self.state == BRIDGED:
                self._hangup_leg(self.agent)
                self._finish("answered", dispositions.raw_cause(200, "OK"), "customer")

    # -- ending --------------------------------------------------------------------------------------------
    @staticmethod
    def _hangup_leg(ua: Optional[UA]) -> None:
        """BYE a connected leg, CANCEL a ringing one (sippy picks by the leg's state)."""
        if ua is not None and not ua.isDead():
            ua.recvEvent(CCEventDisconnect())

    def _close_agent(self) -> None:
        """The agent answered but there is no call for them: ACK its 200 (refusing the media), then BYE.

        The BYE goes a moment after the ACK: a proxy with several workers may otherwise relay the two
        out of order, and a phone that sees the BYE before the ACK fails the call."""
        if self.agent is not None and self.agent.pending_tr is not None and self.agent_offer is not None:
            self.agent.recvEvent(CCEventConnect((200, "OK", refused_answer(self.agent_offer))))
            Timeout(lambda: self._hangup_leg(self.agent), BYE_AFTER_ACK)
            return
        self._hangup_leg(self.agent)

    def hangup(self, by: str = "crm") -> bool:
        """Hang up from the CRM (or the gateway stopping, by="system"): whatever the state, both legs end.
        False when the call had already ended."""
        if self.state == ENDED:
            return False
        if self.state == AGENT_CALLING:
            self._hangup_leg(self.agent)
            self._finish("cancelled", "CANCEL", by)
        elif self.state == CUSTOMER_CALLING:
            self._hangup_leg(self.customer)
            self._close_agent()
            self._finish("cancelled", "CANCEL", by)
        else:
            self._hangup_leg(self.customer)
            self._hangup_leg(self.agent)
            self._finish("answered", dispositions.raw_cause(200, "OK"), by)
        return True

    def _finish(self, disposition: str, raw_cause: str, hangup_by: str) -> None:
        if self.state == ENDED:
            return
        self.state = ENDED
        self.times["ended"] = time.time()
        self.disposition, self.raw_cause, self.hangup_by = disposition, raw_cause, hangup_by
        self._report("ended", self.times["ended"], **self.summary())
        log.info("call %s ended: %s (%s) by %s", self.call_id, disposition, raw_cause, hangup_by)
        self._on_finished(self)
