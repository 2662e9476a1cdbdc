"""The `ledgergate` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from sources.errors import SourceConfigError

from .config import DEFAULT_DEMO_DB, ConfigError, Settings, load_settings

DEMO_SEED = 7
DEMO_SYSTEMS = ("crm", "pos", "hr", "usage", "ap")
# Credentials of a demo system run alone, from the environment: none is built in.
DEMO_SOURCE_SECRET_ENV = {
    "crm": {"api_key": "LEDGERGATE_DEMO_CRM_API_KEY"},
    "pos": {"api_key": "LEDGERGATE_DEMO_POS_API_KEY"},
    "hr": {"api_key": "LEDGERGATE_DEMO_HR_API_KEY"},
    "usage": {"client_secret": "LEDGERGATE_DEMO_USAGE_CLIENT_SECRET"},
    "ap": {"api_key": "LEDGERGATE_DEMO_AP_API_KEY"},
}

log = logging.getLogger("ledgergate")


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


async def _upgrade(url: str) -> None:
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


async def _build_demo(path: Path, scale: float) -> None:
    """Build into a side file and rename it into place only when complete."""
    from tqdm import tqdm

    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    from .demo.world import build_demo

    building = path.with_name(path.name + ".building")
    for leftover in _sqlite_files(building):
        leftover.unlink(missing_ok=True)
    db = LedgerDatabase.from_url(f"sqlite:///{building}")
    try:
        await upgrade(db.engine)
        with tqdm(desc="posting demo ledger", unit=" lines", file=sys.stderr) as bar:
            summary = await build_demo(db, seed=DEMO_SEED, scale=scale, progress=bar.update)
    finally:
        await db.dispose()
    building.replace(path)
    print(f"demo ledger ready: {summary}", file=sys.stderr)


async def _schema_is_current(url: str) -> str | None:
    """None when the database is at the code's revision, else what to tell the operator."""
    from ledger.migrate import current_revision, head_revision
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        current = await current_revision(db.engine)
    except Exception as error:  # noqa: BLE001 - any failure to connect is reported as such
        return f"cannot read the database: {type(error).__name__}"
    finally:
        await db.dispose()
    head = head_revision()
    if current != head:
        return (
            f"the database schema is at revision {current or 'none'}, this version needs {head}: "
            "run `ledgergate db upgrade` first"
        )
    return None


async def _serve_app(settings: Settings, catalog) -> None:
    """uvicorn in the running event loop, so that the source systems' clients, opened at
    start, live in the loop that serves requests."""
    import uvicorn

    from .app import create_app

    from .access_log import redact_access_log

    app = create_app(settings, sources=catalog)  # its lifespan closes the catalog
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
    redact_access_log()  # after Config: it configures uvicorn's loggers
    await uvicorn.Server(config).serve()


async def _source_secrets(settings: Settings, config):
    """The decrypted credentials the sources config names (none named: no key needed)."""
    from ledger.store import LedgerDatabase

    from .secrets import NAME_PATTERN, NO_SECRETS, load_secrets, require_key

    for system in config.systems:
        if system.credentials and not NAME_PATTERN.fullmatch(system.credentials):
            # Not echoed: it may be the secret itself, pasted.
            raise SourceConfigError(
                config.file, system.name,
                "credentials must be the name of stored secrets (1-64 letters, digits, '_', "
                "'.' or '-'), not the secret itself",
            )
    names = sorted({system.credentials for system in config.systems if system.credentials})
    if not names:
        return NO_SECRETS
    listed = ", ".join(repr(name) for name in names)
    key = require_key(settings.secrets_key_file, f"{config.file}: credentials {listed} need")
    db = LedgerDatabase.from_url(settings.database_url)
    try:
        secrets = await load_secrets(db.engine, key, names)
    finally:
        await db.dispose()
    for system in config.systems:
        if system.credentials and system.credentials not in secrets:
            raise SourceConfigError(
                config.file,
                system.name,
                f"credentials {system.credentials!r} are not stored: run "
                f"`ledgergate secrets set {system.credentials} KEY` (KEY: e.g. api_key)",
            )
    return secrets


async def _serve_configured(settings: Settings) -> None:
    from sources.config import load_sources_config

    from .source_catalog import open_catalog

    if settings.sources_file is None:
        catalog = await open_catalog(None)
    else:
        config = load_sources_config(settings.sources_file)
        catalog = await open_catalog(config, secrets=await _source_secrets(settings, config))
    await _serve_app(settings, catalog)


def _demo_meta(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _demo_scale(path: Path, asked: float | None) -> float:
    """The scale the demo ledger at `path` was built with: the source systems must serve
    the very records its lines link to."""
    meta = _demo_meta(path)
    try:
        built = json.loads(meta.read_text())["scale"]
    except (FileNotFoundError, KeyError, ValueError):
        raise ConfigError(
            f"{path} was built by an older ledgergate (no {meta.name}): run `ledgergate demo --reset`"
        ) from None
    if asked is not None and asked != built:
        raise ConfigError(
            f"{path} was built at scale {built:g}, not {asked:g}: add --reset to rebuild it"
        )
    return built


async def _demo_clients(settings: Settings, systems) -> list:
    from ledger.store import LedgerDatabase

    from .auth.identities import IdentityError
    from .demo.clients import provision_demo_clients

    db = LedgerDatabase.from_url(settings.database_url)
    try:
        return await provision_demo_clients(db, systems)
    except IdentityError as error:
        raise ConfigError(str(error)) from None
    finally:
        await db.dispose()


async def _run_demo(settings: Settings, scale: float, pos_db: Path) -> None:
    from sources.demo.generate import generate_world

    from .demo.sources import demo_systems

    records = await asyncio.to_thread(generate_world, DEMO_SEED, scale)
    async with contextlib.AsyncExitStack() as stack:
        try:
            running, catalog = await stack.enter_async_context(
                demo_systems(records, pos_db_path=pos_db)
            )
        except OSError as error:
            raise ConfigError(
                f"cannot start the demo source systems (ports 8101-8105): {error}"
            ) from None
        clients = await _demo_clients(settings, catalog.sources)
        base = f"http://{settings.host}:{settings.port}"
        listing = "\n".join(f"  {name:<6}    {running.url(name)}" for name in running.sources)
        print("\n".join(client.line() for client in clients), flush=True)
        # People sign in to the systems' deep links in a browser; passwords are fresh each run.
        sign_ins = [p.line(name) for name, r in running.sources.items() for p in r.people]
        print("\n".join(sign_ins), flush=True)
        example = clients[0]
        print(
            f"ledgergate demo: every request needs a bearer token of one of the clients above\n"
            f"  token:    curl -s -u {example.client_id}:{example.secret} "
            f"-d grant_type=client_credentials -d entity=SOFTCO {base}/oauth/token\n"
            f"  GraphiQL: {base}/graphiql (paste the token into the Headers tab)\n"
            f"  GraphQL:  {base}/graphql\n"
            f"source systems (a deep link asks a person to sign in: see `demo sign-in` above):\n"
            f"{listing}",
            file=sys.stderr,
        )
        await _serve_app(settings, catalog)


def cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.reset:
        for file in [*_sqlite_files(path), _demo_meta(path)]:
            file.unlink(missing_ok=True)
    if not path.exists():
        scale = 1.0 if args.scale is None else args.scale
        asyncio.run(_build_demo(path, scale))
        _demo_meta(path).write_text(json.dumps({"seed": DEMO_SEED, "scale": scale}) + "\n")
    from .secrets import key_file_beside

    scale = _demo_scale(path, args.scale)
    settings = Settings(
        database_url=f"sqlite:///{path}", host=args.host, port=args.port,
        # Beside the ledger: it seals the ledger's token signing keys.
        secrets_key_file=key_file_beside(path),
    )
    asyncio.run(_upgrade(settings.database_url))
    asyncio.run(_run_demo(settings, scale, path.with_name(path.stem + "-pos.db")))
    return 0


def cmd_demo_source(args: argparse.Namespace) -> int:
    from sources.demo.services import run_demo_source

    wanted = DEMO_SOURCE_SECRET_ENV.get(args.name, {})
    credentials = {key: value for key, env in wanted.items() if (value := os.environ.get(env))}
    if unset := [env for key, env in wanted.items() if key not in credentials]:
        raise ConfigError(
            f"demo-source {args.name}: set {', '.join(unset)} to the credentials its clients "
            "must present (and store the same for the gateway with `ledgergate secrets set`)"
        )
    run_demo_source(
        args.name, args.port, scale=args.scale, host=args.host, pos_db_path=args.pos_db, **credentials
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the configured ledger: /graphql takes the bearer tokens of the built-in
    authorization server, which needs the secrets key (its signing keys are encrypted with
    it)."""
    from .secrets import KEY_ENV, KEYGEN_HINT, configured_key

    settings = load_settings(Path(args.config) if args.config else None)
    settings = replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    if settings.oauth.builtin and configured_key(settings.secrets_key_file) is None:
        # External issuers' tokens need no key of ours; the built-in server's signing keys do.
        raise ConfigError(
            "serve: /graphql takes bearer tokens, whose signing keys need the secrets key, but "
            f"none is configured: set {KEY_ENV} or [secrets] key_file in the gateway config "
            f"({KEYGEN_HINT})"
        )
    if problem := asyncio.run(_schema_is_current(settings.database_url)):
        print(f"ledgergate serve: {problem}", file=sys.stderr)
        return 2
    asyncio.run(_serve_configured(settings))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.config) if args.config else None)
    url = args.url or settings.database_url
    asyncio.run(_upgrade(url))
    print("database is at the latest revision", file=sys.stderr)
    return 0


def _admin_settings(args: argparse.Namespace) -> Settings:
    """The settings of an administration command (`secrets`, `clients`, `users`, …), its
    database checked to be at the code's schema."""
    settings = load_settings(Path(args.config) if args.config else None)
    alembic = logging.getLogger("alembic")
    level = alembic.level
    alembic.setLevel(logging.WARNING)  # reading the revision is not news for an admin command
    try:
        problem = asyncio.run(_schema_is_current(settings.database_url))
    finally:
        alembic.setLevel(level)
    if problem:
        raise ConfigError(problem)
    return settings


def _run_on_ledger(settings: Settings, work):
    """`work(db)` on the configured database (a `LedgerDatabase`), in a loop of its own."""
    from ledger.store import LedgerDatabase

    async def run():
        db = LedgerDatabase.from_url(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _run_on_database(settings: Settings, work):
    """`work(engine)` on the configured database, in a loop of its own."""
    return _run_on_ledger(settings, lambda db: work(db.engine))


def _read_secret_value(label: str) -> str:
    """The value from stdin, or typed twice at a prompt that does not echo; never argv."""
    from .secrets import SecretsError

    if sys.stdin is None:
        raise SecretsError(f"no value for {label}: give it on stdin")
    if sys.stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        if getpass.getpass(f"{label} (again): ") != value:
            raise SecretsError(f"the two entries of {label} differ; nothing was stored")
        return value
    value = sys.stdin.read()
    # One trailing line break (echo, a here-string, a file's last line) is not the value's.
    return value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value


def cmd_secrets_keygen(args: argparse.Namespace) -> int:
    from .secrets import write_key_file

    key = write_key_file(Path(args.out))
    print(
        f"wrote a new secrets key to {args.out} (mode 0600, key id {key.id}); name it with "
        "[secrets] key_file in the gateway config and keep a copy where the database's "
        "backups are not: without it the stored secrets cannot be read",
        file=sys.stderr,
    )
    return 0


def cmd_secrets_set(args: argparse.Namespace) -> int:
    from .secrets import check_key, check_names, require_key, store_secret

    check_names(args.name, args.key)
    settings = _admin_settings(args)
    key = require_key(settings.secrets_key_file, "storing a secret needs")
    _run_on_database(settings, lambda engine: check_key(engine, key))  # before asking the value
    value = _read_secret_value(f"{args.name}.{args.key}")
    _run_on_database(settings, lambda engine: store_secret(engine, key, args.name, args.key, value))
    print(f"stored {args.name}.{args.key} (encrypted with key id {key.id})", file=sys.stderr)
    return 0


def cmd_secrets_list(args: argparse.Namespace) -> int:
    from .secrets import list_secrets

    settings = _admin_settings(args)
    for stored in _run_on_database(settings, list_secrets):
        print(f"{stored.name}\t{stored.key}\tkey id {stored.key_id}\tupdated {stored.updated_at}")
    return 0


def cmd_secrets_delete(args: argparse.Namespace) -> int:
    from .secrets import SecretsError, check_names, delete_secrets

    check_names(args.name, args.key)
    settings = _admin_settings(args)
    deleted = _run_on_database(settings, lambda engine: delete_secrets(engine, args.name, args.key))
    what = f"{args.name}.{args.key}" if args.key else f"{args.name}"
    if not deleted:
        raise SecretsError(f"no secret {what} is stored")
    print(f"deleted {deleted} value(s) of {what}", file=sys.stderr)
    return 0


def cmd_secrets_rotate(args: argparse.Namespace) -> int:
    from .secrets import read_key_file, require_key, rotate_secrets

    settings = _admin_settings(args)
    old = require_key(settings.secrets_key_file, "rotating needs")
    new = read_key_file(Path(args.new_key_file))
    rotated = _run_on_database(settings, lambda engine: rotate_secrets(engine, old, new))
    print(
        f"re-encrypted {rotated} value(s) with key id {new.id}: configure {args.new_key_file} "
        "as the secrets key now (the old key no longer reads them)",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    from .auth.keystore import list_keys

    settings = _admin_settings(args)
    for key in _run_on_database(settings, list_keys):
        print(f"{key.kid}\tcreated {key.created_at}\t{key.status}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    import datetime as dt

    from .auth.keystore import rotate
    from .secrets import require_key

    settings = _admin_settings(args)
    key = require_key(settings.secrets_key_file, "rotating the signing keys needs")
    ring = _run_on_database(settings, lambda engine: rotate(engine, key, dt.datetime.now(dt.UTC)))
    print(ring.current.kid)
    print(
        f"new signing key {ring.current.kid}: running gateways sign with it within 30 seconds; "
        f"the {len(ring.keys) - 1} previous key(s) stay published until retired "
        "(`ledgergate keys retire --expired` once no token they signed can be valid)",
        file=sys.stderr,
    )
    return 0


def cmd_keys_retire(args: argparse.Namespace) -> int:
    import datetime as dt

    from .auth.keystore import retire, retire_expired

    if args.kid_option is not None:
        if args.kid is not None:
            raise ConfigError("keys retire: name the KID once (as KID or --kid=KID)")
        args.kid = args.kid_option
    if (args.kid is None) == (not args.expired):
        raise ConfigError("keys retire: name one KID, or give --expired")
    settings = _admin_settings(args)
    now = dt.datetime.now(dt.UTC)
    if args.expired:
        ttl = settings.oauth.token_ttl
        kids = _run_on_database(settings, lambda engine: retire_expired(engine, now, ttl))
        for kid in kids:
            print(kid)
        print(f"retired {len(kids)} signing key(s) that stopped signing over {ttl}s + leeway ago",
              file=sys.stderr)
        return 0
    stored = _run_on_database(settings, lambda engine: retire(engine, args.kid, now))
    print(
        f"retired signing key {stored.kid}: it is no longer published and tokens it signed "
        "are refused",
        file=sys.stderr,
    )
    return 0


def _identities(args: argparse.Namespace, operation, *arguments):
    """`operation(db, *arguments)` of `gateway.auth.identities` on the configured database."""
    from .auth.identities import IdentityError

    settings = _admin_settings(args)
    try:
        return _run_on_ledger(settings, lambda db: operation(db, *arguments))
    except IdentityError as error:
        raise ConfigError(str(error)) from None


def _scope_text(scopes) -> str:
    from .auth.scopes import format_scope

    return format_scope(scopes)


def cmd_roles_add(args: argparse.Namespace) -> int:
    from .auth.identities import add_role

    role = _identities(args, add_role, args.name, args.scopes)
    print(f"added role {role.name}: {_scope_text(role.scopes)}", file=sys.stderr)
    return 0


def cmd_roles_list(args: argparse.Namespace) -> int:
    from .auth.identities import list_roles

    for role in _identities(args, list_roles):
        print(f"{role.name}\t{_scope_text(role.scopes)}")
    return 0


def _jwks_file(path: str) -> str:
    """The public JWK set in the `--jwks` file, checked (`client_keys.parse_client_jwks`), or
    ConfigError naming the file and what is wrong with it."""
    from .auth.client_keys import ClientKeysError, parse_client_jwks

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read the JWK set {path}: not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read the JWK set {path}: {error.strerror or error}") from None
    try:
        return parse_client_jwks(text)
    except ClientKeysError as error:
        raise ConfigError(f"{path}: {error}") from None


def cmd_clients_add(args: argparse.Namespace) -> int:
    from .auth.identities import add_client, add_key_client

    if args.jwks is not None:
        jwks = _jwks_file(args.jwks)
        client = _identities(args, add_key_client, args.name, args.scopes, jwks)
        print(f"client_id={client.client_id}")
        print(
            f"added client {client.client_id} ({client.name}): it authenticates with "
            "private_key_jwt, signing with a private key of the JWK set given (it has no "
            f"secret); allow the client for an entity with `ledgergate allow {client.client_id} "
            "ENTITY --as USERNAME`",
            file=sys.stderr,
        )
        return 0
    client, secret = _identities(args, add_client, args.name, args.scopes)
    print(f"client_id={client.client_id} client_secret={secret}")
    print(
        f"added client {client.client_id} ({client.name}): the secret above is shown only now "
        "(ledgergate keeps only a hash of it); allow the client for an entity with "
        f"`ledgergate allow {client.client_id} ENTITY --as USERNAME`",
        file=sys.stderr,
    )
    return 0


def cmd_clients_list(args: argparse.Namespace) -> int:
    from .auth.identities import list_allowances, list_clients

    async def both(db):
        return await list_clients(db), await list_allowances(db)

    clients, allowances = _identities(args, both)
    entities: dict[str, list[str]] = {}
    for entry in allowances:
        entities.setdefault(entry.client_id, []).append(f"{entry.entity_code} as {entry.username}")
    for client in clients:
        status = f"disabled {client.disabled_at}" if client.disabled else "active"
        allowed = ", ".join(entities.get(client.client_id, [])) or "-"
        print(f"{client.client_id}\t{client.name}\t{status}\t{client.method}\t"
              f"{_scope_text(client.allowed_scopes)}\t{allowed}")
    return 0


def cmd_clients_disable(args: argparse.Namespace) -> int:
    from .auth.identities import disable_client

    client = _identities(args, disable_client, args.client_id)
    print(
        f"disabled client {client.client_id} ({client.name}): it gets no more tokens and its "
        "tokens are refused",
        file=sys.stderr,
    )
    return 0


def cmd_clients_enable(args: argparse.Namespace) -> int:
    from .auth.identities import enable_client

    client = _identities(args, enable_client, args.client_id)
    print(
        f"enabled client {client.client_id} ({client.name}): it gets tokens again (within 5 s "
        "on running gateways); reset its secret too if it was disabled for a leak",
        file=sys.stderr,
    )
    return 0


def cmd_clients_reset_secret(args: argparse.Namespace) -> int:
    from .auth.identities import reset_client_secret

    client, secret = _identities(args, reset_client_secret, args.client_id)
    print(f"client_id={client.client_id} client_secret={secret}")
    print(
        f"new secret for client {client.client_id} ({client.name}), shown only now; the old "
        "secret no longer works (tokens already issued do until they expire)",
        file=sys.stderr,
    )
    return 0


def cmd_clients_set_keys(args: argparse.Namespace) -> int:
    from .auth.identities import set_client_keys

    jwks = _jwks_file(args.jwks)
    client = _identities(args, set_client_keys, args.client_id, jwks)
    print(
        f"new keys for client {client.client_id} ({client.name}): assertions signed with a key "
        "not in the set given are refused from now on; the client authenticates with "
        "private_key_jwt only (a secret it had no longer works)",
        file=sys.stderr,
    )
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    from .auth.identities import add_user

    user = _identities(args, add_user, args.entity, args.username, args.role)
    print(f"added user {user.username} of {user.entity_code} with role {user.role}", file=sys.stderr)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from .auth.identities import list_users

    for user in _identities(args, list_users, args.entity):
        status = "active" if user.active else f"deactivated {user.deactivated_at}"
        print(f"{user.entity_code}\t{user.username}\t{user.role}\t{status}")
    return 0


def cmd_users_deactivate(args: argparse.Namespace) -> int:
    from .auth.identities import deactivate_user

    user = _identities(args, deactivate_user, args.entity, args.username)
    print(
        f"deactivated user {user.username} of {user.entity_code}: clients acting as it get no "
        "more tokens and their tokens are refused",
        file=sys.stderr,
    )
    return 0


def cmd_users_activate(args: argparse.Namespace) -> int:
    from .auth.identities import activate_user

    user = _identities(args, activate_user, args.entity, args.username)
    print(
        f"activated user {user.username} of {user.entity_code}: clients acting as it get tokens "
        "again (within 5 s on running gateways)",
        file=sys.stderr,
    )
    return 0


def cmd_allow(args: argparse.Namespace) -> int:
    from .auth.identities import allow

    entry = _identities(args, allow, args.client_id, args.entity, args.username)
    print(
        f"allowed client {entry.client_id} for {entry.entity_code}, acting as {entry.username}",
        file=sys.stderr,
    )
    return 0


def cmd_disallow(args: argparse.Namespace) -> int:
    from .auth.identities import disallow

    _identities(args, disallow, args.client_id, args.entity)
    print(
        f"client {args.client_id} is no longer allowed for {args.entity}: its tokens for it are "
        "refused",
        file=sys.stderr,
    )
    return 0


def _moment(value: str | None, option: str):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"audit list: {option} must be an ISO 8601 date or date-time (UTC unless it says "
            f"otherwise), e.g. 2026-03-01T09:00:00Z; got {value!r}"
        ) from None


def cmd_audit_list(args: argparse.Namespace) -> int:
    from ledger.audit import AuditFilter, listing

    if args.limit < 1:
        raise ConfigError(f"audit list: --limit must be at least 1, got {args.limit}")
    where = AuditFilter(
        event=args.event, since=_moment(args.since, "--since"), until=_moment(args.until, "--until"),
        client_id=args.client_id, request_id=args.request_id,
    )
    settings = _admin_settings(args)
    try:
        events = _run_on_ledger(
            settings, lambda db: listing(db, where, entity=args.entity, limit=args.limit)
        )
    except LookupError as error:
        raise ConfigError(f"audit list: {error.args[0]}") from None
    for event in events:
        if args.json:
            print(json.dumps({
                "id": event.id, "occurredAt": event.occurred_at, "requestId": event.request_id,
                "event": event.event, "outcome": event.outcome, "entity": event.entity,
                "clientId": event.client_id, "username": event.username, "detail": event.detail,
            }, separators=(",", ":"), sort_keys=True))
        else:
            print("\t".join([
                str(event.id), event.occurred_at, event.request_id, event.event, event.outcome,
                event.entity or "-", event.client_id or "-", event.username or "-",
                json.dumps(event.detail, separators=(",", ":"), sort_keys=True),
            ]))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ledger.audit import verify

    settings = _admin_settings(args)
    try:
        chains = _run_on_ledger(settings, lambda db: verify(db, entity=args.entity))
    except LookupError as error:
        raise ConfigError(f"audit verify: {error.args[0]}") from None
    broken = 0
    for chain in chains:
        name = chain.entity or "(no entity)"
        if chain.ok:
            print(f"{name}\tok\t{chain.events_checked} events\thead {chain.head_seq} {chain.head_hash}")
        else:
            broken += 1
            print(f"{name}\tBROKEN at seq {chain.first_broken_seq}\t{chain.events_checked} events "
                  f"checked\thead {chain.head_seq} {chain.head_hash}")
    if broken:
        print(f"ledgergate: {broken} audit chain(s) do not hold: events were altered or removed",
              file=sys.stderr)
        return 1
    print(f"{len(chains)} audit chain(s) hold", file=sys.stderr)
    return 0


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import Entity
    from ledger.tenancy import ALL_ENTITIES
    from ledger.verification import verify_chain

    settings = _admin_settings(args)

    async def work(db):
        async with db.session(None) as s:
            query = select(Entity.id, Entity.code).order_by(Entity.code).execution_options(**ALL_ENTITIES)
            entities = (await s.execute(query)).all()
        if args.entity and not any(code == args.entity for _, code in entities):
            raise LookupError(f"no entity {args.entity!r}")
        results = []
        for entity_id, code in entities:
            if args.entity in (None, code):
                async with db.session(entity_id) as s:
                    results.append((code, await verify_chain(s, full=args.full)))
        return results

    try:
        results = _run_on_ledger(settings, work)
    except LookupError as error:
        raise ConfigError(f"ledger verify: {error.args[0]}") from None
    broken = 0
    for code, result in results:
        walked = "from genesis" if result.full else f"from seq {result.from_seq} (checkpoint of {result.checkpoint_at})"
        if result.ok:
            print(f"{code}\tok\t{result.entries_checked} entries checked {walked}")
        else:
            broken += 1
            print(f"{code}\tBROKEN at {result.first_broken_entry}\t{result.entries_checked} entries checked {walked}")
    if broken:
        print(f"ledgergate: {broken} ledger chain(s) do not hold: entries were altered or removed", file=sys.stderr)
        return 1
    return 0


def _add_ledger_commands(commands) -> None:
    ledger = commands.add_parser("ledger", help="the ledger's posted history")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = ledger_commands.add_parser(
        "verify", help="verify the entries' hash chains (from the checkpoint; --full: from genesis); "
        "exit 1 naming the first broken entry"
    )
    verify.add_argument("--config", help="TOML configuration file")
    verify.add_argument("--entity", metavar="CODE", help="only this entity's chain")
    verify.add_argument("--full", action="store_true", help="recheck every entry from the first")
    verify.set_defaults(func=cmd_ledger_verify)


def _add_audit_commands(commands) -> None:
    from ledger.audit import EVENTS

    audit = commands.add_parser("audit", help="the audit log (tokens, refusals, mutations, sensitive reads)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_list = audit_commands.add_parser(
        "list", help="events, newest first, one a line (tab-separated; --json: JSON lines)"
    )
    audit_list.add_argument("--config", help="TOML configuration file")
    audit_list.add_argument("--entity", metavar="CODE", help="only this entity's events")
    audit_list.add_argument("--event", choices=EVENTS)
    audit_list.add_argument("--since", metavar="ISO", help="from this moment on (inclusive)")
    audit_list.add_argument("--until", metavar="ISO", help="before this moment (exclusive)")
    audit_list.add_argument("--client-id", metavar="CLIENT_ID")
    audit_list.add_argument("--request-id", metavar="ID")
    audit_list.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    audit_list.add_argument("--json", action="store_true", help="one JSON object a line")
    audit_list.set_defaults(func=cmd_audit_list)
    audit_verify = audit_commands.add_parser(
        "verify", help="recompute the audit hash chains; exit 1 naming the first broken link"
    )
    audit_verify.add_argument("--config", help="TOML configuration file")
    audit_verify.add_argument("--entity", metavar="CODE", help="only this entity's chain")
    audit_verify.set_defaults(func=cmd_audit_verify)


def cmd_schema(args: argparse.Namespace) -> int:
    from .demo.sources import DEMO_SOURCES_FILE, demo_sdl

    sys.stdout.write(asyncio.run(demo_sdl(Path(args.sources) if args.sources else DEMO_SOURCES_FILE)))
    return 0


def _add_identity_commands(commands) -> None:
    """`roles`, `clients`, `users`, `allow` and `disallow`: who may call the gateway."""

    def command(group, name: str, func, help: str) -> argparse.ArgumentParser:
        parser = group.add_parser(name, help=help)
        parser.add_argument("--config", help="TOML configuration file")
        parser.set_defaults(func=func)
        return parser

    scopes_help = 'space-separated, e.g. "ledger:read statistical:read source:hr:read"'
    roles = commands.add_parser("roles", help="roles of web-services users: the scopes they grant")
    roles_commands = roles.add_subparsers(dest="roles_command", required=True)
    role_add = command(roles_commands, "add", cmd_roles_add, "add a role granting --scopes")
    role_add.add_argument("name", metavar="NAME")
    role_add.add_argument("--scopes", required=True, help=scopes_help)
    command(roles_commands, "list", cmd_roles_list, "the roles and their scopes")

    clients = commands.add_parser("clients", help="integration clients (OAuth client credentials)")
    clients_commands = clients.add_subparsers(dest="clients_command", required=True)
    client_add = command(
        clients_commands, "add", cmd_clients_add,
        "add a client allowed --scopes; prints its id and secret, the secret only this once "
        "(with --jwks: its id; it authenticates with private_key_jwt and has no secret)",
    )
    client_add.add_argument("name", metavar="NAME", help="a label for people, e.g. the integration")
    client_add.add_argument("--scopes", required=True, help=scopes_help)
    jwks_help = "a JSON file of the client's public JWK set (RSA 2048+ or EC P-256 keys)"
    client_add.add_argument("--jwks", metavar="FILE", help=jwks_help)
    command(clients_commands, "list", cmd_clients_list, "the clients, their scopes and entities (never secrets)")
    client_disable = command(
        clients_commands, "disable", cmd_clients_disable, "disable a client; its tokens are refused"
    )
    client_disable.add_argument("client_id", metavar="CLIENT_ID")
    client_enable = command(
        clients_commands, "enable", cmd_clients_enable, "enable a disabled client again"
    )
    client_enable.add_argument("client_id", metavar="CLIENT_ID")
    client_reset = command(
        clients_commands, "reset-secret", cmd_clients_reset_secret,
        "give a client a new secret (printed only this once); the old one stops working",
    )
    client_reset.add_argument("client_id", metavar="CLIENT_ID")
    client_keys = command(
        clients_commands, "set-keys", cmd_clients_set_keys,
        "replace a client's public keys (private_key_jwt), e.g. to rotate them",
    )
    client_keys.add_argument("client_id", metavar="CLIENT_ID")
    client_keys.add_argument("--jwks", metavar="FILE", required=True, help=jwks_help)

    users = commands.add_parser("users", help="web-services users of an entity, with a role")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    user_add = command(users_commands, "add", cmd_users_add, "add a user of ENTITY with --role")
    user_add.add_argument("entity", metavar="ENTITY", help="the entity's code, e.g. SOFTCO")
    user_add.add_argument("username", metavar="USERNAME")
    user_add.add_argument("--role", required=True)
    user_list = command(users_commands, "list", cmd_users_list, "the users of ENTITY, or of all")
    user_list.add_argument("entity", metavar="ENTITY", nargs="?")
    user_deactivate = command(
        users_commands, "deactivate", cmd_users_deactivate,
        "deactivate a user; tokens of clients acting as it are refused",
    )
    user_deactivate.add_argument("entity", metavar="ENTITY")
    user_deactivate.add_argument("username", metavar="USERNAME")
    user_activate = command(
        users_commands, "activate", cmd_users_activate, "activate a deactivated user again"
    )
    user_activate.add_argument("entity", metavar="ENTITY")
    user_activate.add_argument("username", metavar="USERNAME")

    allow = command(
        commands, "allow", cmd_allow, "put a client on an entity's allow-list, acting as one of its users"
    )
    allow.add_argument("client_id", metavar="CLIENT_ID")
    allow.add_argument("entity", metavar="ENTITY")
    allow.add_argument("--as", dest="username", metavar="USERNAME", required=True)
    disallow = command(
        commands, "disallow", cmd_disallow, "take a client off an entity's allow-list"
    )
    disallow.add_argument("client_id", metavar="CLIENT_ID")
    disallow.add_argument("entity", metavar="ENTITY")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledgergate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the demo ledger if missing and serve it")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--scale", type=float, help="volume multiplier when building (default 1: ~32k lines in seconds; 31: ~1M lines)")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo database")
    demo.add_argument("--db", default=str(DEFAULT_DEMO_DB), help="demo SQLite file")
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="serve a configured ledger")
    serve.add_argument("--config", help="TOML configuration file")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate the schema to the latest revision")
    upgrade.add_argument("--config", help="TOML configuration file")
    upgrade.add_argument("--url", help="database URL (overrides the config)")
    upgrade.set_defaults(func=cmd_db_upgrade)

    source = commands.add_parser("demo-source", help="run one demo source system alone")
    source.add_argument("name", choices=DEMO_SYSTEMS)
    source.add_argument("--port", type=int, required=True)
    source.add_argument("--host", default="127.0.0.1")
    source.add_argument("--scale", type=float, default=1.0, help="as the demo ledger was built")
    source.add_argument("--pos-db", default=str(DEFAULT_DEMO_DB.with_name("demo-pos.db")), help="pos: the database to (re)build and serve")
    source.set_defaults(func=cmd_demo_source)

    secrets = commands.add_parser(
        "secrets", help="credentials of source systems, encrypted in the database"
    )
    secrets_commands = secrets.add_subparsers(dest="secrets_command", required=True)
    keygen = secrets_commands.add_parser("keygen", help="write a new secrets key file (mode 0600)")
    keygen.add_argument("--out", required=True, help="the key file to create (never overwritten)")
    keygen.set_defaults(func=cmd_secrets_keygen)
    secret_set = secrets_commands.add_parser(
        "set", help="store a value, read from stdin (or a prompt), of credentials NAME"
    )
    secret_set.add_argument("name", metavar="NAME", help="as in the sources config: credentials = NAME")
    secret_set.add_argument("key", metavar="KEY", help="api_key, client_secret, password, …")
    secret_set.add_argument("--config", help="TOML configuration file")
    secret_set.set_defaults(func=cmd_secrets_set)
    secret_list = secrets_commands.add_parser("list", help="the stored names and keys (never values)")
    secret_list.add_argument("--config", help="TOML configuration file")
    secret_list.set_defaults(func=cmd_secrets_list)
    secret_delete = secrets_commands.add_parser("delete", help="delete NAME's value KEY, or all of NAME")
    secret_delete.add_argument("name", metavar="NAME")
    secret_delete.add_argument("key", metavar="KEY", nargs="?")
    secret_delete.add_argument("--config", help="TOML configuration file")
    secret_delete.set_defaults(func=cmd_secrets_delete)
    rotate = secrets_commands.add_parser(
        "rotate", help="re-encrypt every stored value with a new key (from the configured one)"
    )
    rotate.add_argument("--new-key-file", required=True, help="made by `secrets keygen`")
    rotate.add_argument("--config", help="TOML configuration file")
    rotate.set_defaults(func=cmd_secrets_rotate)

    keys = commands.add_parser(
        "keys", help="signing keys of the built-in authorization server (encrypted in the database)"
    )
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_list = keys_commands.add_parser("list", help="the keys: current, published or retired")
    keys_list.add_argument("--config", help="TOML configuration file")
    keys_list.set_defaults(func=cmd_keys_list)
    keys_rotate = keys_commands.add_parser(
        "rotate", help="make a new current key; the previous ones stay published"
    )
    keys_rotate.add_argument("--config", help="TOML configuration file")
    keys_rotate.set_defaults(func=cmd_keys_rotate)
    keys_retire = keys_commands.add_parser(
        "retire", help="withdraw key KID (tokens it signed are refused), or every --expired one"
    )
    # A key made before ids had their prefix may begin with "-", which argparse reads as an
    # option: `keys retire --kid=-Abc…` (or `-- -Abc…` last on the line) names it.
    keys_retire.add_argument("kid", metavar="KID", nargs="?", help="a key id (lgk_…)")
    keys_retire.add_argument("--kid", dest="kid_option", metavar="KID",
                             help="the same, as --kid=KID: for an id beginning with '-' (keys "
                             "made before ids had the lgk_ prefix)")
    keys_retire.add_argument(
        "--expired", action="store_true",
        help="every replaced key that stopped signing longer than the token lifetime ago",
    )
    keys_retire.add_argument("--config", help="TOML configuration file")
    keys_retire.set_defaults(func=cmd_keys_retire)

    _add_identity_commands(commands)
    _add_audit_commands(commands)
    _add_ledger_commands(commands)

    schema = commands.add_parser("schema", help="print the GraphQL SDL (of the demo sources, or --sources)")
    schema.add_argument("--sources", help="a sources config file (default: the demo's)")
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # httpx logs every call to a source system at INFO: that is the access log's job.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, SourceConfigError) as error:
        print(f"ledgergate: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
