"""The command line and configuration files."""

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_settings


def test_schema_command_prints_the_demo_configurations_sdl(capsys):
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == (Path(__file__).parents[2] / "schema.graphql").read_text()


def test_serve_without_the_insecure_dev_flag_needs_the_secrets_key(capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_SECRETS_KEY", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ledgergate: serve: /graphql takes bearer tokens, whose signing keys "
                          "need the secrets key, but none is configured: set LEDGERGATE_SECRETS_KEY")
    assert err.rstrip().endswith("or run with --insecure-dev (INSECURE: no authentication)")


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
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "serve", "--insecure-dev", "--config",
                             str(tmp_path / "nope.toml")], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert result.returncode == 2 and "nope.toml: no such file" in result.stderr


def test_serve_refuses_a_database_that_was_never_migrated(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEDGERGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["serve", "--insecure-dev"]) == 2
    assert "run `ledgergate db upgrade` first" in capsys.readouterr().err


def test_serve_with_the_secrets_key_needs_no_insecure_dev_flag(tmp_path, capsys, monkeypatch):
    from gateway.secrets import KEY_ENV, new_key_text

    monkeypatch.setenv(KEY_ENV, new_key_text())
    monkeypatch.setenv("LEDGERGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["serve"]) == 2  # past the key check, stopped by the schema check
    err = capsys.readouterr().err
    assert "run `ledgergate db upgrade` first" in err and "--insecure-dev" not in err
