"""`[[oauth.external]]` and `[oauth] builtin` in the gateway config: read with their defaults,
and every mistake refused with a message naming the file and the key."""

from __future__ import annotations

import pytest

from gateway.auth import tokens
from gateway.config import EXTERNAL_ALGORITHMS, ConfigError, ExternalIssuer, load_settings

CLIENT = "lgc_AAAAAAAAAAAAAAAA"
MINIMAL = f'''
[[oauth.external]]
issuer = "https://idp.example.com/"
jwks_url = "https://idp.example.com/keys"
audience = "api://ledgergate"
clients = {{ "0oa1" = "{CLIENT}" }}
'''


def test_an_external_issuer_with_its_defaults(tmp_path):
    config = tmp_path / "lg.toml"
    config.write_text(MINIMAL)
    settings = load_settings(config)
    assert settings.oauth.builtin is True
    assert settings.oauth.external == (ExternalIssuer(
        issuer="https://idp.example.com/", jwks_url="https://idp.example.com/keys",
        audience="api://ledgergate", clients={"0oa1": CLIENT}, algorithms=("RS256",), leeway=30,
        entity_claim=None, jwks_refresh_interval=60, jwks_max_age=3600,
    ),)
    assert load_settings(None).oauth.external == ()


def test_every_key_and_builtin_false(tmp_path):
    config = tmp_path / "lg.toml"
    config.write_text(f'''
[oauth]
builtin = false
[[oauth.external]]
issuer = "https://a.example.com"
jwks_url = "http://user:pw@127.0.0.1:9000/keys"
audience = "gl"
clients = {{ "a" = "{CLIENT}", "b" = "{CLIENT}" }}
algorithms = ["ES256", "RS256", "Ed25519"]
leeway = 0
entity_claim = "tenant"
jwks_refresh_interval = 10
jwks_max_age = 10
[[oauth.external]]
issuer = "https://b.example.com"
jwks_url = "https://b.example.com/keys"
audience = "gl"
clients = {{ "b" = "{CLIENT}" }}
''')
    settings = load_settings(config)
    assert settings.oauth.builtin is False
    first, second = settings.oauth.external
    assert (first.algorithms, first.leeway, first.entity_claim, first.jwks_refresh_interval,
            first.jwks_max_age) == (("ES256", "RS256", "Ed25519"), 0, "tenant", 10, 10)
    assert first.clients == {"a": CLIENT, "b": CLIENT}
    assert second.issuer == "https://b.example.com"


def test_the_algorithms_are_those_tokens_verify_accepts():
    assert set(EXTERNAL_ALGORITHMS) == tokens.SIGNATURE_ALGORITHMS


def _external(**changes) -> str:
    values = {
        "issuer": '"https://idp.example.com/"',
        "jwks_url": '"https://idp.example.com/keys"',
        "audience": '"api://ledgergate"',
        "clients": f'{{ "0oa1" = "{CLIENT}" }}',
    }
    values.update(changes)
    lines = [f"{key} = {value}" for key, value in values.items() if value is not None]
    return "[[oauth.external]]\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, fragment", [
    (_external(colour='"red"'), "unknown key(s) oauth.external[0].['colour']; expected issuer, jwks_url"),
    (_external(issuer=None), "oauth.external[0] needs issuer"),
    (_external(jwks_url=None, clients=None), "oauth.external[0] needs jwks_url, clients"),
    (_external(issuer="1"), "oauth.external[0].issuer must be a string, got 1"),
    (_external(issuer='"idp.example.com"'), "oauth.external[0].issuer must be an http(s) URL without query or fragment"),
    (_external(issuer='"https://idp/#x"'), "oauth.external[0].issuer must be an http(s) URL"),
    (_external(jwks_url='"ftp://idp/keys"'), "oauth.external[0].jwks_url must be an http(s) URL"),
    (_external(jwks_url='"https://u:pw@:99999/keys"'), "oauth.external[0].jwks_url must be an http(s) URL"),
    (_external(audience='""'), "oauth.external[0].audience must be a non-empty string"),
    (_external(clients="{}"), "oauth.external[0].clients must be a table of the issuer's client ids"),
    (_external(clients='"lgc_AAAAAAAAAAAAAAAA"'), "oauth.external[0].clients must be a table"),
    (_external(clients='{ "0oa1" = "not-a-client" }'), "oauth.external[0].clients.0oa1 must be a ledgergate client id"),
    (_external(clients=f'{{ " x" = "{CLIENT}" }}'), "oauth.external[0].clients: ' x' is not a client id"),
    (_external(algorithms='["HS256"]'), "oauth.external[0].algorithms must be a non-empty list of RS256"),
    (_external(algorithms='["none"]'), "(asymmetric signatures only), got ['none']"),
    (_external(algorithms="[]"), "oauth.external[0].algorithms must be a non-empty list"),
    (_external(algorithms='"RS256"'), "oauth.external[0].algorithms must be a non-empty list"),
    (_external(leeway="301"), "oauth.external[0].leeway must be between 0 and 300 seconds, got 301"),
    (_external(leeway="-1"), "oauth.external[0].leeway must be between 0 and 300 seconds"),
    (_external(leeway='"30"'), "oauth.external[0].leeway must be an integer"),
    (_external(entity_claim='"scope"'), "oauth.external[0].entity_claim must name a claim other than"),
    (_external(entity_claim='"sub"'), "oauth.external[0].entity_claim must name a claim other than"),
    (_external(entity_claim='""'), "oauth.external[0].entity_claim must name a claim"),
    (_external(jwks_refresh_interval="0"), "oauth.external[0].jwks_refresh_interval must be between 1 and 3600"),
    (_external(jwks_max_age="30"), "oauth.external[0].jwks_max_age must be between jwks_refresh_interval (60) and 604800 seconds, got 30"),
    (_external(issuer='"http://127.0.0.1:8000/"'), "oauth.external[0].issuer is the built-in server's issuer 'http://127.0.0.1:8000'"),
    ("[oauth]\nissuer = 'https://gl.example.com'\n" + _external(issuer='"https://gl.example.com"'),
     "is the built-in server's issuer"),
    (_external() + _external(issuer='"https://idp.example.com"'),
     "oauth.external[1].issuer 'https://idp.example.com' is configured twice; issuers must be distinct"),
    ("[oauth]\nexternal = 1\n", "oauth.external must be tables: [[oauth.external]]"),
    ("[oauth]\nbuiltin = 'no'\n", "oauth.builtin must be true or false"),
    ("[oauth]\nbuiltin = false\n", "oauth.builtin = false needs at least one [[oauth.external]] issuer"),
    ("[oauth]\nexternals = []\n", "unknown key(s) oauth.['externals']; expected issuer, audience, token_ttl, builtin, external"),
])
def test_bad_external_settings_name_the_file_and_key(tmp_path, text, fragment):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(config) in str(raised.value) and fragment in str(raised.value)


def test_a_jwks_url_is_never_quoted_in_an_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(_external(jwks_url='"ftp://reader:s3cret@idp/keys"'))
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert "s3cret" not in str(raised.value)


def test_serve_with_only_external_issuers_needs_no_secrets_key(tmp_path, capsys, monkeypatch):
    from gateway.cli import main
    from gateway.secrets import KEY_ENV

    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("LEDGERGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    config = tmp_path / "lg.toml"
    config.write_text("[oauth]\nbuiltin = false\n" + MINIMAL)
    assert main(["serve", "--config", str(config)]) == 2  # past the key check, stopped by the schema check
    err = capsys.readouterr().err
    assert "run `ledgergate db upgrade` first" in err and "secrets key" not in err
    # With the built-in server on, the key is still required.
    config.write_text(MINIMAL)
    assert main(["serve", "--config", str(config)]) == 2
    assert "whose signing keys need the secrets key" in capsys.readouterr().err
