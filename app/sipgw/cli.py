"""`flask --app app crm sip-gateway`: run the SIP callback gateway in the foreground (its own process)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("sip-gateway")
@click.option("--sip-port", type=int, help="UDP port for SIP (default SIP_GATEWAY_SIP_PORT)")
@click.option("--http-port", type=int, help="loopback HTTP port for the CRM (default SIP_GATEWAY_HTTP_PORT)")
@with_appcontext
def sip_gateway_command(sip_port, http_port) -> None:
    """Run the SIP callback (双呼) gateway: originate/hang up over local HTTP, events to the CRM webhook."""
    from app.sipgw.server import GatewaySettings, run

    try:
        settings = GatewaySettings.from_config(current_app.config)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if sip_port:
        settings.sip_port = sip_port
    if http_port:
        settings.http_port = http_port
    run(settings)
