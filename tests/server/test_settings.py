"""Settings: read once from the environment; a bad value stops the start with one sentence."""

import stat

import pytest

from server.settings import Settings, SettingsError


def test_defaults_use_sqlite_in_the_data_directory(tmp_path):
    settings = Settings.from_env({"LOTSENBUCH_DATA_DIR": str(tmp_path)})
    assert settings.database_url is None
    assert settings.sqlite_path == tmp_path / "lotsenbuch.sqlite3"
    assert settings.cookie_secure is True
    assert settings.log_level == "INFO"
    assert settings.max_body_bytes == 1024 * 1024


def test_every_variable_is_read(tmp_path):
    settings = Settings.from_env({
        "LOTSENBUCH_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        "LOTSENBUCH_SECRET_KEY": "k" * 40,
        "LOTSENBUCH_BASE_URL": "https://lotsen.example.org/",
        "LOTSENBUCH_COOKIE_SECURE": "false",
        "LOTSENBUCH_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16",
        "LOTSENBUCH_LOG_LEVEL": "debug",
        "LOTSENBUCH_MAX_BODY_BYTES": "2048",
        "LOTSENBUCH_OFFER_FLAG_HOURS": "24",
        "LOTSENBUCH_EVENT_STREAM_SECONDS": "120",
    })
    assert settings.uses_postgres
    assert settings.secret_key == "k" * 40
    assert settings.base_url == "https://lotsen.example.org"
    assert settings.cookie_secure is False
    assert settings.trusted_proxies == ("10.0.0.1/32", "192.168.0.0/16")
    assert settings.log_level == "DEBUG"
    assert settings.max_body_bytes == 2048
    assert settings.offer_flag_hours == 24
    assert settings.event_stream_seconds == 120


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("LOTSENBUCH_SECRET_KEY", "short"),
        ("LOTSENBUCH_BASE_URL", "lotsen.example.org"),
        ("LOTSENBUCH_COOKIE_SECURE", "maybe"),
        ("LOTSENBUCH_TRUSTED_PROXIES", "proxy.local"),
        ("LOTSENBUCH_LOG_LEVEL", "LOUD"),
        ("LOTSENBUCH_MAX_BODY_BYTES", "12"),
        ("LOTSENBUCH_OFFER_FLAG_HOURS", "0"),
        ("LOTSENBUCH_EVENT_STREAM_SECONDS", "5"),
    ],
)
def test_an_invalid_setting_names_the_variable_in_one_sentence(tmp_path, variable, value):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"LOTSENBUCH_DATA_DIR": str(tmp_path), variable: value})
    message = str(error.value)
    assert variable in message
    assert message.endswith(".") and message.count(". ") == 0


def test_a_missing_secret_key_is_made_once_and_kept(tmp_path):
    settings = Settings.from_env({"LOTSENBUCH_DATA_DIR": str(tmp_path / "new")})
    first = settings.with_secret()
    second = Settings.from_env({"LOTSENBUCH_DATA_DIR": str(tmp_path / "new")}).with_secret()
    assert first.secret_key and len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    mode = (tmp_path / "new" / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_a_given_secret_key_is_used_and_nothing_is_written(tmp_path):
    settings = Settings.from_env({"LOTSENBUCH_DATA_DIR": str(tmp_path), "LOTSENBUCH_SECRET_KEY": "s" * 32})
    assert settings.with_secret().secret_key == "s" * 32
    assert not (tmp_path / "secret_key").exists()
