"""Settings: every source in its order of strength, and errors that name the key, the value and what is allowed."""

import logging
import re
import socket
from pathlib import Path

import pytest

from vaultrag.config.errors import ConfigError
from vaultrag.config.settings import DEFAULT_TOML, ServerSettings, Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_default_toml_lists_every_setting_with_its_default():
    import tomllib

    documented = tomllib.loads(DEFAULT_TOML.read_text())
    model = Settings()
    assert set(documented) == set(Settings.model_fields)
    for section, values in documented.items():
        section_model = getattr(model, section)
        if isinstance(section_model, dict):  # a table of any names ([scopes]): none by default
            assert values == section_model, section
            continue
        assert set(values) == set(type(section_model).model_fields), section
        for key, value in values.items():
            assert getattr(section_model, key) == value, f"{section}.{key}"


def test_scopes_are_a_table_of_names_and_write_folders_stay_inside(tmp_path):
    config = write(tmp_path / "c.toml", '[scopes]\nwork = "path:Work/ tag:project"\n[mcp]\nallow_writes = true\n')
    settings = load_settings(config, environ={"VAULTRAG_SCOPES__HOME": "path:Home/"})
    assert settings.scopes == {"work": "path:Work/ tag:project", "home": "path:Home/"}
    assert settings.mcp.allow_writes and settings.mcp.write_folder == "Inbox/"
    with pytest.raises(ConfigError, match="scopes.Work Stuff"):
        load_settings(write(tmp_path / "d.toml", '[scopes]\n"Work Stuff" = "path:Work/"\n'), environ={})
    for folder in ("../Elsewhere", "/etc", ".obsidian", "Inbox/../.."):
        with pytest.raises(ConfigError, match="mcp.write_folder"):
            load_settings(environ={"VAULTRAG_MCP__WRITE_FOLDER": folder})
    with pytest.raises(ConfigError, match="unknown setting mcp.allow_deletes"):
        load_settings(write(tmp_path / "e.toml", "[mcp]\nallow_deletes = true\n"), environ={})


def test_file_then_environment_then_flags(tmp_path):
    config = write(tmp_path / "c.toml", '[embedding]\ndevice = "cuda"\nbatch_size = 8\n[vault]\npath = "/from/file"\n')
    env = {"VAULTRAG_EMBEDDING__DEVICE": "mps", "VAULTRAG_VAULT__EXCLUDE": '["Archive/**"]'}
    settings = load_settings(config, {"vault.path": "/from/flag"}, environ=env)
    assert settings.embedding.batch_size == 8  # file
    assert settings.embedding.device == "mps"  # environment beats file
    assert settings.vault.exclude == ["Archive/**"]  # JSON list from the environment
    assert settings.vault.path == "/from/flag"  # flag beats everything
    assert settings.vault.include == ["**/*.md", "**/*.canvas", "**/*.pdf", "**/*.png", "**/*.jpg", "**/*.jpeg",
                                      "**/*.webp"]  # default: every kind


def test_platform_config_file_is_read_without_flag(tmp_path, monkeypatch):
    monkeypatch.setattr("vaultrag.config.settings.default_config_file", lambda: tmp_path / "config.toml")
    write(tmp_path / "config.toml", '[log]\nlevel = "debug"\n')
    assert load_settings(environ={}).log.level == "debug"


@pytest.mark.parametrize("source, expected", [
    ({"toml": "[embedding]\nmodle = 'x'\n"}, r"unknown setting embedding\.modle = 'x' in .*c\.toml; \[embedding\] has: model"),
    ({"toml": "[embeding]\nmodel = 'x'\n"}, r"unknown section \[embeding\] .*allowed: vault, data, embedding"),
    ({"env": {"VAULTRAG_EMBEDDING__DEVICE": "gpu"}}, r"embedding\.device = 'gpu'.*'auto', 'cpu', 'cuda' or 'mps'"),
    ({"env": {"VAULTRAG_EMBEDDING__BATCH_SIZE": "-1"}}, r"embedding\.batch_size = '-1'.*greater than or equal to 0"),
    ({"env": {"VAULTRAG_STORE__URL": "ftp://h"}}, r"store\.url = 'ftp://h'.*Chroma server URL such as http://"),
    ({"toml": "[vault\n"}, r"c\.toml is not valid TOML"),
])
def test_bad_settings_name_key_value_and_what_is_allowed(tmp_path, source, expected):
    config = write(tmp_path / "c.toml", source.get("toml", ""))
    with pytest.raises(ConfigError, match=expected):
        load_settings(config, environ=source.get("env", {}))


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path / "nope.toml"))):
        load_settings(tmp_path / "nope.toml", environ={})


def test_data_dir_is_one_folder_per_vault(tmp_path, monkeypatch):
    monkeypatch.setattr("platformdirs.user_data_dir", lambda app: str(tmp_path / "data"))
    one = load_settings(overrides={"vault.path": str(tmp_path / "Notes")}, environ={}).data_dir
    two = load_settings(overrides={"vault.path": str(tmp_path / "other" / "Notes")}, environ={}).data_dir
    assert one.parent == two.parent == tmp_path / "data" / "vaults"
    assert one != two and one.name.startswith("Notes-")
    explicit = load_settings(overrides={"vault.path": "x", "data.dir": str(tmp_path / "d")}, environ={}).data_dir
    assert explicit == tmp_path / "d"


def test_no_vault_says_how_to_give_one():
    with pytest.raises(ConfigError, match="--vault"):
        _ = load_settings(environ={}).vault_path


def test_vaultrag_api_key_is_short_for_server_api_key():
    assert load_settings(environ={"VAULTRAG_API_KEY": "k1"}).server.api_key == "k1"
    both = {"VAULTRAG_API_KEY": "short", "VAULTRAG_SERVER__API_KEY": "long"}
    assert load_settings(environ=both).server.api_key == "long"  # the full name wins


def test_a_vaultrag_variable_that_is_no_setting_is_a_warning_naming_it(caplog):
    env = {"VAULTRAG_VAULT": "x", "VAULTRAG_HOME": "/somewhere", "VAULTRAG_SERVER__PROT": "1",
           "VAULTRAG_EMBEDDING__DEVICE": "cpu"}
    with caplog.at_level(logging.WARNING, logger="vaultrag.config.settings"):
        settings = load_settings(environ=env)
    assert settings.embedding.device == "cpu"
    for name in ("VAULTRAG_VAULT", "VAULTRAG_HOME", "VAULTRAG_SERVER__PROT"):
        assert f"ignoring environment variable {name}: it names no setting" in caplog.text
    assert "VAULTRAG_EMBEDDING__DEVICE" not in caplog.text


def test_loopback_is_decided_by_address_and_names_by_what_they_resolve_to(monkeypatch):
    loopback = lambda host: ServerSettings(host=host).is_loopback
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"):  # localhost resolves from /etc/hosts
        assert loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "172.17.0.1", "fe80::1"):
        assert not loopback(host), host

    # Name lookups beyond /etc/hosts would ask a DNS server, which this machine cannot reach: answered here instead.
    answers = {"notes.lan": ["192.168.1.5"], "both.lan": ["127.0.0.1", "10.0.0.2"], "lo.lan": ["127.0.0.1", "::1"]}

    def resolve(name, *args, **kwargs):
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in answers[name]]
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert loopback("lo.lan")
    for host in ("notes.lan", "both.lan", "127.example.com", "127.0.0.1.nip.io"):  # not loopback by its prefix
        assert not loopback(host), host
