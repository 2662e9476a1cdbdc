"""The command line and configuration files."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_settings


def test_schema_command_prints_the_demo_configurations_sdl(capsys):
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == (Path(__file__).parents[2] / "schema.graphql").read_text()


def test_serve_needs_the_secrets_key(capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_SECRETS_KEY", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "ledgergate: serve: /graphql takes bearer tokens, whose signing keys need the secrets "
        "key, but none is configured: set LEDGERGATE_SECRETS_KEY or [secrets] key_file in the "
        "gateway config (make one with `ledgergate secrets keygen --out FILE`)\n"
    )


def test_there_is_no_unauthenticated_mode(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--insecure-dev"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --insecure-dev" in capsys.readouterr().err


def test_db_upgrade_creates_the_schema(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "upgrade", "--url", url]) == 0
    import sqlite3
    tables = {r[0] for r in sqlite3.connect(tmp_path / "fresh.db").execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entities", "accounts", "journal_entries", "journal_lines", "source_links", "alembic_version"} <= tables


def test_a_full_config_file_is_read(tmp_path):
    config = tmp_path / "lg.toml"
    config.write_text('[database]\nurl = "sqlite:///x.db"\n[http]\nport = 9000\ngraphiql = false\n'
                      '[limits]\ndefault_page_size = 50\nmax_page_size = 500\n')
    settings = load_settings(config)
    assert (settings.database_url, settings.port, settings.graphiql) == ("sqlite:///x.db", 9000, False)
    assert (settings.limits.default_page_size, settings.limits.max_page_size) == (50, 500)
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize("text,fragment", [
    ("[http]\nport = 'eighty'\n", "http.port must be an integer"),
    ("[colour]\nx = 1\n", "unknown section(s) ['colour']"),
    ("[limits]\ndefault_page_size = 0\n", "default_page_size must be between"),
    ("not toml = = =", "not valid TOML"),
])
def test_bad_config_files_name_the_file_and_key(tmp_path, text, fragment):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(config) in str(raised.value) and fragment in str(raised.value)


def test_a_missing_config_file_stops_the_cli_with_a_message(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "serve", "--config",
                             str(tmp_path / "nope.toml")], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert result.returncode == 2 and "nope.toml: no such file" in result.stderr


def test_serve_refuses_a_database_that_was_never_migrated(tmp_path, capsys, monkeypatch):
    from gateway.secrets import KEY_ENV, new_key_text

    monkeypatch.setenv(KEY_ENV, new_key_text())
    monkeypatch.setenv("LEDGERGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["serve"]) == 2  # past the key check, stopped by the schema check
    assert "run `ledgergate db upgrade` first" in capsys.readouterr().err


def test_introspection_is_filtered_by_default_and_can_be_turned_off(tmp_path):
    config = tmp_path / "lg.toml"
    assert load_settings(None).introspection == "filtered"
    config.write_text('[http]\nintrospection = "off"\n')
    assert load_settings(config).introspection == "off"
    config.write_text('[http]\nintrospection = "maybe"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: http.introspection must be one of filtered, off, got 'maybe'"


async def test_an_app_with_introspection_off_refuses_it_and_answers_the_rest(world):
    import httpx

    from gateway.app import create_app
    from tests.callers import tester_client
    from tests.conftest import make_settings

    app = create_app(replace(make_settings(), introspection="off"), db=world.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        gql = await tester_client(http, world.db)
        refused = await gql("{ __schema { queryType { name } } }")
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await gql("{ entity { code } }") == {"data": {"entity": {"code": "ACME"}}}


def test_the_compiled_path_is_on_by_default_and_can_be_turned_off(tmp_path):
    from resolvers.compiled import CompiledExecutor
    from resolvers.schema import build_schema

    config = tmp_path / "ledgergate.toml"
    assert load_settings(None).compiled is True
    config.write_text("[execution]\ncompiled = false\n")
    assert load_settings(config).compiled is False
    config.write_text('[execution]\ncompiled = "no"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: execution.compiled must be true or false, got 'no'"
    config.write_text("[execution]\ncompiled = true\nfast = true\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: unknown key(s) execution.['fast']; expected compiled"
    assert issubclass(build_schema(compiled=True).execution_context_class, CompiledExecutor)
    assert not issubclass(build_schema(compiled=False).execution_context_class, CompiledExecutor)
