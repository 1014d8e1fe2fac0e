"""The SIP callback (双呼) gateway and the CRM's side of it (the provider `sip_callback`).

The gateway is its own process (`flask --app app crm sip-gateway`): sippy runs one process-wide event loop.
  - calls.py       the third-party call control of one callback (agent first, late offer, then the customer)
  - outbox.py      every call step as a signed event, spooled on disk and delivered to the CRM webhook
  - server.py      the loopback HTTP interface (originate / hang up) and the process wiring
  - dispositions.py SIP codes -> the CRM's disposition codes
  - cli.py         `flask --app app crm sip-gateway`
The CRM side:
  - provider.py    `SipCallbackProvider`: originate / hangup (parse_event is the common one), over HTTP
  - signing.py     the HMAC signature the gateway signs with (part 1's webhook checks the same)
  - wire()         registers the provider where part 1's registry is (app/telephony/providers.PROVIDERS)
Only for a tree without part 1 (delete both once app/telephony is merged; nothing imports them then):
  - _interface.py      part 1's OriginateResult / TelephonyProvider / parse_event shapes
  - webhook_standin.py part 1's webhook POST /api/v1/call/events/<provider>, registered only when absent
"""
from __future__ import annotations

_LOCAL_PROVIDERS: dict = {}


def _registry() -> dict:
    try:
        from app.telephony.providers import PROVIDERS  # part 1's registry
    except ImportError:
        return _LOCAL_PROVIDERS
    return PROVIDERS


def registered_provider(name: str):
    cls = _registry().get(name)
    return cls() if cls is not None else None


def wire(app) -> None:
    """Register the provider `sip_callback` where the dialing service and the webhook look providers up, and
    (only in a tree without part 1's webhook) the stand-in webhook of webhook_standin.py."""
    from app.sipgw.provider import SipCallbackProvider

    _registry()[SipCallbackProvider.name] = SipCallbackProvider
    if not any(rule.rule == "/api/v1/call/events/<provider>" for rule in app.url_map.iter_rules()):
        from app.extensions import csrf
        from app.sipgw.webhook_standin import blueprint

        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
