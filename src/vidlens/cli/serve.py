"""``vidlens serve`` (API + web UI + a background worker in one process, or one ``--role`` of them),
``users`` and ``keys``."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vidlens.cli.common import ConfigOption, DataDirOption, JsonOption, echo, log, open_platform, print_json

if TYPE_CHECKING:
    from vidlens.platform import Platform

ADMIN_PASSWORD_ENV = "VIDLENS_ADMIN_PASSWORD"
ROLES = ("all", "api", "worker")

users_app = typer.Typer(
    help="Users of the web UI and API (roles: viewer < reviewer < admin).", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys (sent as 'Authorization: Bearer vl_...').", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")


def bootstrap_admin(platform: Platform) -> str | None:
    """With no users yet, create ``admin``; returns the password when it was generated here."""
    from vidlens.api.auth import Accounts

    accounts = Accounts(platform.store)
    if accounts.count_users() > 0:
        return None
    given = os.environ.get(ADMIN_PASSWORD_ENV)
    password = given or secrets.token_urlsafe(12)
    accounts.add_user("admin", "admin", password)
    return None if given else password


def listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket before anything else, so a taken port fails first and alone.

    The bound socket goes to uvicorn, so no other program can take the port in between.
    """
    from vidlens.errors import ConflictError, UsageError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a restart reuses TIME_WAIT ports
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConflictError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server is there? "
                            "choose another --port)") from None
    return sock


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    worker: bool = typer.Option(
        True,
        "--worker/--no-worker",
        help="Process queued jobs in a background thread (serve.worker must be true too).",
    ),
    role: str = typer.Option(
        "all", "--role",
        help="all: API and web UI with a worker thread; api: API and web UI only; worker: the job runner only "
             "(settings.workers processes, or Ray actors with runner = 'ray'), no HTTP. Run several of each "
             "against one PostgreSQL database and one blob store.",
    ),
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Run the HTTP API and web UI, the job workers, or both, until interrupted."""
    from vidlens.errors import UsageError

    if role not in ROLES:
        raise UsageError(f"--role {role}: expected one of {', '.join(ROLES)}")
    if role == "worker":
        platform = open_platform(data_dir, config)
        try:
            _serve_worker(platform)
        finally:
            platform.close()
        return
    with listen(host, port) as sock:  # before the banner, the admin password or any data is touched
        port = sock.getsockname()[1]
        platform = open_platform(data_dir, config)
        try:
            _serve(platform, sock, host, port, worker and role == "all")
        finally:
            platform.close()


def _serve_worker(platform: Platform) -> None:
    """The worker role: the configured runner until SIGINT or SIGTERM (``docker stop``)."""
    import signal

    from vidlens.jobs.runner import make_runner

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner = make_runner(platform.settings, platform.jobs)
    n = platform.settings.workers
    log.print(f"VidLens worker role: {n} {'Ray actor(s)' if platform.settings.runner == 'ray' else 'process(es)'} "
              f"on {platform.store.safe_url}", highlight=False)
    runner.serve(stop, processes=n)


def _serve(platform: Platform, sock: socket.socket, host: str, port: int, worker: bool) -> None:
    import uvicorn

    from vidlens.api.app import create_app
    from vidlens.jobs.worker import Worker

    password = bootstrap_admin(platform)
    if password is not None:
        log.print(
            f"created user [bold]admin[/bold] with password [bold]{password}[/bold] "
            "(shown once; change it with `vidlens users passwd admin --password-stdin`)",
            highlight=False,
        )
    app = create_app(platform)
    stop = threading.Event()
    thread = None
    if worker and platform.settings.serve.worker:
        w = Worker(platform)
        thread = threading.Thread(target=w.run, args=(stop,), name="vidlens-worker", daemon=True)
        thread.start()
    log.print(
        f"VidLens on http://{host}:{port}/ (API docs /api/docs, OpenAPI /openapi.json)", highlight=False
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=platform.settings.log_level,
            access_log=platform.settings.log_level == "debug",
            lifespan="off",
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)


def _audit_cli(platform: Platform, command: str, action: str, subject: str, **detail: object) -> None:
    """CLI account changes go to the same audit table as API writes (actor: the OS user)."""
    import getpass

    from vidlens.api import audit

    with platform.store.tx() as conn:
        audit.record(
            conn,
            principal=None,
            via="cli",
            actor=getpass.getuser(),
            method="CLI",
            path=command,
            action=action,
            subject=subject,
            status_code=0,
            detail=detail or None,
        )


def _read_password(password_stdin: bool) -> str | None:
    if not password_stdin:
        return None
    from vidlens.errors import UsageError

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("--password-stdin given but no password was read from standard input")
    return password


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option("viewer", "--role", help="viewer, reviewer or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Add a user (without a password the user can only use API keys)."""
    from vidlens.api.auth import Accounts

    platform = open_platform(data_dir, config)
    user = Accounts(platform.store).add_user(name, role, _read_password(password_stdin))
    _audit_cli(platform, "vidlens users add", "user.create", f"user:{name}", role=role)
    print_json(user) if json_out else echo(f"user {user['name']} added ({user['role']})")


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(..., help="User name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from stdin."),
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Set a user's password."""
    from vidlens.api.auth import Accounts
    from vidlens.errors import UsageError

    password = _read_password(password_stdin)
    if password is None:
        raise UsageError("give the new password on standard input with --password-stdin")
    platform = open_platform(data_dir, config)
    Accounts(platform.store).set_password(name, password)
    _audit_cli(platform, "vidlens users passwd", "user.passwd", f"user:{name}")
    echo(f"password of {name} changed")


@users_app.command("list")
def users_list(
    json_out: bool = JsonOption, data_dir: Path | None = DataDirOption, config: Path | None = ConfigOption
) -> None:
    """List users."""
    from vidlens.api.auth import Accounts

    users = Accounts(open_platform(data_dir, config).store).list_users()
    if json_out:
        print_json({"users": users})
        return
    for u in users:
        echo(f"{u['name']:<24} {u['role']:<9}{' (disabled)' if u['disabled'] else ''}".rstrip())


@keys_app.command("create")
def keys_create(
    user: str = typer.Option(..., "--user", help="Owner of the key; it acts with the owner's role."),
    expires: str | None = typer.Option(
        None, "--expires", help="Lifetime such as 30d, 12h, 45m (default: never)."
    ),
    name: str | None = typer.Option(None, "--name", help="A note to recognise the key by."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Create an API key. The key is printed once on stdout; only its hash is stored."""
    from vidlens.api.auth import Accounts, parse_duration

    platform = open_platform(data_dir, config)
    key, record = Accounts(platform.store).create_key(
        user, name=name, expires_in_s=parse_duration(expires) if expires else None
    )
    _audit_cli(
        platform, "vidlens keys create", "key.create", f"key:{record['id']}", user=user, expires=expires
    )
    if json_out:
        print_json({"key": key, **record})
        return
    log.print(  # stdout holds the key alone, so KEY=$(vidlens keys create ...) works
        f"key {record['id']} for {record['user']} ({record['prefix']}…); it will not be shown again:",
        highlight=False, markup=False,
    )
    sys.stdout.write(key + "\n")


@keys_app.command("list")
def keys_list(
    user: str | None = typer.Option(None, "--user"),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """List API keys (prefix, owner, state); never the keys themselves."""
    from vidlens.api.auth import Accounts

    keys = Accounts(open_platform(data_dir, config).store).list_keys(user)
    if json_out:
        print_json({"keys": keys})
        return
    for k in keys:
        echo(f"{k['id']:>4}  {k['prefix']}…  {k['user']:<20} {k['state']:<8} {k['name'] or ''}".rstrip())


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="Numeric id or shown prefix (vl_xxxxxxxx)."),
    json_out: bool = JsonOption,
    data_dir: Path | None = DataDirOption,
    config: Path | None = ConfigOption,
) -> None:
    """Revoke an API key at once."""
    from vidlens.api.auth import Accounts

    platform = open_platform(data_dir, config)
    record = Accounts(platform.store).revoke_key(key)
    _audit_cli(platform, "vidlens keys revoke", "key.revoke", f"key:{record['id']}")
    print_json(record) if json_out else echo(f"key {record['id']} ({record['prefix']}…) revoked")
