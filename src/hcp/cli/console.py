"""`hcp console`: the web console, served over HTTPS, acting with each signed-in user's own token."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from hcp.cli.options import management_kubeconfig, management_options
from hcp.console.app import Console
from hcp.console.backend import ManagementAPI
from hcp.console.server import ConsoleServer
from hcp.console.tls import serving_certificate


@click.command("console")
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True, help="HTTPS port.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for every interface.")
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Serving certificate (PEM, chain). Default: one the console makes, signed by its own CA "
                   "(<state-dir>/console/ca.crt, to trust in the browser).")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Private key of --tls-cert.")
@management_options
def console(port: int, address: str, tls_cert: Path | None, tls_key: Path | None, kubeconfig: Path | None,
            state_dir: Path) -> None:
    """Serve the web console: hosted clusters and NodePools, their conditions and events; create, scale,
    update, download a kubeconfig, destroy.

    The kubeconfig says only where the management API server is and which CA
    it presents: its credentials are not used. Each user signs in with a
    bearer token of their own (`kubectl create token ACCOUNT`), and every
    request the console makes carries that token, so RBAC applies to the
    user. There is no anonymous access.

    \b
    Examples:
      hcp console                                   # https://127.0.0.1:8443
      hcp console --address 0.0.0.0 --port 9443 --kubeconfig mgmt.kubeconfig
      kubectl -n team-a create token alice          # a token to sign in with
    """
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    management = ManagementAPI.from_kubeconfig(management_kubeconfig(kubeconfig, state_dir))
    ca = None
    if tls_cert is None:
        ca, tls_cert, tls_key = serving_certificate(state_dir / "console", address)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = ConsoleServer(Console(management, state_dir), address, port, tls_cert, tls_key)
    host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    click.echo(f"hcp console on https://{host}:{server.server_address[1]} for the API server {management.server}"
               + (f"; its certificate's CA: {ca}" if ca else ""), err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
