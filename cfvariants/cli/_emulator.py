"""``cfvariants emulator``: run the local Cloudflare Images on 127.0.0.1."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from cfvariants.client._ratelimit import RateLimit
from cfvariants.emulator import (
    DEV_ACCOUNT_HASH,
    DEV_ACCOUNT_ID,
    DEV_API_TOKEN,
    DEV_AUTH_EMAIL,
    DEV_AUTH_KEY,
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    TransformationServer,
    create_app,
)

from ._errors import CFCommand, CLIUsageError


@click.command(
    cls=CFCommand,
    epilog="""\b
Example:
  cfvariants emulator --port 8787 --data .cfimages
  # paste the printed CF_* lines into .env, then point your app at it:
  # uploads go to CF_API_BASE, images are served from CF_IMG_DOMAIN.
  cfvariants emulator --transform-root /media/=./media
  # also serves /cdn-cgi/image/w=200/media/cat.jpg from ./media/cat.jpg
""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--data",
    "data_dir",
    default=".cfimages",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (originals, records, cache); created if missing, kept between runs.",
)
@click.option("--account-id", default=None, help="Account id the API answers to (default: a stable dev id).")
@click.option("--account-hash", default=None, help="Account hash of delivery URLs (default: a stable dev hash).")
@click.option("--token", "api_token", default=None, help="The one API token to accept (default: a stable dev token).")
@click.option(
    "--legacy-auth",
    is_flag=True,
    help=f"Also accept the legacy X-Auth-Email/X-Auth-Key pair {DEV_AUTH_EMAIL} + {DEV_AUTH_KEY} (off by default).",
)
@click.option(
    "--flexible/--no-flexible",
    default=None,
    help="Switch flexible variants (w=200 in URLs) on or off. Default: on for a new data directory, "
    "otherwise as the directory remembers.",
)
@click.option("--base-url", default=None, help="Public URL of the emulator in image objects (default: request host).")
@click.option("--lenient-signatures", is_flag=True, help="Also accept the undocumented signed-URL forms.")
@click.option("--webhook-url", default=None, help="POST direct-upload notifications here (a 127.0.0.1 URL).")
@click.option(
    "--webhook-secret",
    envvar="CFVARIANTS_EMULATOR_WEBHOOK_SECRET",
    default=None,
    help="Sent in cf-webhook-auth [CFVARIANTS_EMULATOR_WEBHOOK_SECRET]; prefer the variable.",
)
@click.option(
    "--rate-limit", default=None, metavar="N/WINDOW", help="Answer 429 beyond N API requests per window (1200/5m)."
)
@click.option(
    "--transform-root",
    "transform_roots",
    multiple=True,
    metavar="PREFIX=DIR",
    help="Serve Image Transformations (/cdn-cgi/image/<options>/PREFIX...) of the files in DIR, e.g. "
    "/media/=./media. Repeatable.",
)
@click.option(
    "--transform-origin",
    "transform_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Also transform images fetched from this origin (/cdn-cgi/image/<options>/https://ORIGIN/...). Repeatable.",
)
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@click.option("--dry-run", is_flag=True, help="Set up the data directory, print the details and exit.")
def emulator(
    host: str,
    port: int,
    data_dir: Path,
    account_id: str | None,
    account_hash: str | None,
    api_token: str | None,
    legacy_auth: bool,
    flexible: bool | None,
    base_url: str | None,
    lenient_signatures: bool,
    webhook_url: str | None,
    webhook_secret: str | None,
    rate_limit: str | None,
    transform_roots: tuple[str, ...],
    transform_origins: tuple[str, ...],
    quiet: bool,
    dry_run: bool,
) -> None:
    """Run a local Cloudflare Images: the REST API, direct uploads and delivery with real transforms.

    Your app and Cloudflare's own SDK talk to it exactly as to Cloudflare, with no account and no network.
    Everything is kept in the data directory. Ctrl-C stops it.
    """
    try:
        limit = RateLimit.parse(rate_limit) if rate_limit else None
        config = EmulatorConfig(
            data_dir=data_dir.resolve(),
            account_id=account_id or DEV_ACCOUNT_ID,
            account_hash=account_hash or DEV_ACCOUNT_HASH,
            api_token=api_token or DEV_API_TOKEN,
            auth_email=DEV_AUTH_EMAIL if legacy_auth else None,
            auth_key=DEV_AUTH_KEY if legacy_auth else None,
            flexible_variants=flexible,
            base_url=base_url,
            lenient_signatures=lenient_signatures,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rate_limit=(limit.requests, limit.per) if limit else None,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    transformations = _transformation_server(transform_roots, transform_origins)
    try:
        app = create_app(config, transformations=transformations)
    except OSError as exc:  # a file, an unwritable or impossible place: one line, nothing half made
        raise CLIUsageError(f"--data {data_dir}: cannot use it as the data directory ({exc.strerror or exc})") from None
    except ValueError as exc:  # a webhook URL the emulator will not call
        raise click.UsageError(str(exc)) from None
    if dry_run:
        _print_details(app.emulator, f"http://{_url_host(host)}:{port}", app.transformations)
        app.emulator.close()
        return
    try:
        server = EmulatorServer(app, host=host, port=port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING if quiet else logging.INFO)
    _print_details(app.emulator, server.url, app.transformations)
    click.echo(f"Serving on {server.url} (Ctrl-C to stop)")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.emulator.close()
    click.echo("Emulator stopped.")


def _transformation_server(roots: tuple[str, ...], origins: tuple[str, ...]) -> TransformationServer:
    """``--transform-root PREFIX=DIR`` and ``--transform-origin ORIGIN`` as the server of ``/cdn-cgi/image/``."""
    pairs = []
    for root in roots:
        prefix, sep, directory = root.partition("=")
        if not sep or not prefix.startswith("/") or not directory:
            raise click.UsageError(
                f"--transform-root {root!r}: give a URL prefix and a directory, e.g. /media/=./media"
            )
        if not Path(directory).is_dir():
            raise click.UsageError(f"--transform-root {root!r}: {directory} is not a directory")
        pairs.append((prefix, directory))
    try:
        return TransformationServer(pairs, allowed_origins=origins)
    except ValueError as exc:
        raise click.UsageError(f"--transform-origin: {exc}") from None


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a process manager, a test) stops like Ctrl-C; a second one during shutdown is ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _print_details(emulator: Emulator, url: str, transformations: TransformationServer) -> None:
    cfg = emulator.config
    base = cfg.base_url or url
    keys = emulator.list_signing_keys()
    settings = emulator.settings()
    rows = [
        ("data directory", str(cfg.data_dir)),
        ("account id", cfg.account_id),
        ("account hash", cfg.account_hash),
        ("API token", cfg.api_token),
        *([("legacy auth", f"X-Auth-Email {cfg.auth_email}, X-Auth-Key {cfg.auth_key}")] if cfg.auth_key else []),
        ("signing key", f"{keys[0].value} ({keys[0].name})"),
        ("flexible variants", "on" if settings.flexible_variants else "off (PATCH /images/v1/config to switch on)"),
        ("API base", f"{base}/client/v4"),
        ("delivery", f"{base}/cdn-cgi/imagedelivery/{cfg.account_hash}/<image id>/<variant>"),
        ("", f"{base}/{cfg.account_hash}/<image id>/<variant>"),
        ("transformations", f"{base}/cdn-cgi/image/<options>/<source>"),
        *[("", f"{url}... from {directory}") for url, directory in transformations.roots],
        *[("", f"{origin}/...") for origin in sorted(transformations.allowed_origins)],
        *([] if transformations.roots or transformations.allowed_origins else [("", "(no --transform-root given)")]),
    ]
    click.echo("cfvariants emulator: a local Cloudflare Images")
    for label, value in rows:
        click.echo(f"  {label:<18} {value}")
    click.echo("\nPaste into .env:")
    click.echo(f"CF_ACCT_ID={cfg.account_id}")
    click.echo(f"CF_IMG_TOKEN={cfg.api_token}")
    click.echo(f"CF_IMG_HASH={cfg.account_hash}")
    click.echo(f"CF_IMG_SIGNING_KEY={keys[0].value}")
    click.echo(f"CF_IMG_DOMAIN={base}")
    click.echo(f"CF_API_BASE={base}/client/v4\n")
    sys.stdout.flush()
