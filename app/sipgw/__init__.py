"""The SIP callback (双呼) gateway and the CRM's side of it (the provider `sip_callback`).

The gateway is its own process (`flask --app app crm sip-gateway`): sippy runs one process-wide event loop.
  - calls.py       the third-party call control of one callback (agent first, late offer, then the customer)
  - outbox.py      every call step as a signed event, spooled on disk and delivered to the CRM webhook
  - server.py      the loopback HTTP interface (originate / hang up) and the process wiring
  - dispositions.py SIP codes -> the CRM's disposition codes
The CRM side:
  - provider.py    `SipCallbackProvider`: originate / hangup / parse_event, talking to the gateway over HTTP
  - signing.py     the HMAC signature shared by the gateway and the webhook
"""
