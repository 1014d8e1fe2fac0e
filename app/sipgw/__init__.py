"""The SIP callback (双呼) gateway and the CRM's side of it (the provider `sip_callback`).

The gateway is its own process (`flask --app app crm sip-gateway`): sippy runs one process-wide event loop.
  - calls.py       the third-party call control of one callback (agent first, late offer, then the customer)
  - outbox.py      every call step as a signed event, spooled on disk and delivered to the CRM webhook
  - server.py      the loopback HTTP interface (originate / hang up) and the process wiring
  - dispositions.py SIP codes -> the CRM's disposition codes
  - cli.py         `flask --app app crm sip-gateway`
The CRM side:
  - provider.py    `SipCallbackProvider`: originate / hangup (parse_event is the common one), over HTTP
  - app/telephony/signing.py   the HMAC signature the gateway signs with and the webhook checks
  - wire()         registers the provider where part 1's registry is (app/telephony/providers.PROVIDERS)
"""
from __future__ import annotations



def registered_provider(name: str):
    from app.telephony.providers import PROVIDERS

    cls = PROVIDERS.get(name)
    return cls() if cls is not None else None


def wire(app) -> None:
    """Register the provider `sip_callback` where the dialing service and the webhook look providers up."""
    from app.sipgw.provider import SipCallbackProvider
    from app.telephony.providers import PROVIDERS

    PROVIDERS[SipCallbackProvider.name] = SipCallbackProvider
