from pathlib import Path

import pytest

from dispatch.errors import ConfigError
from dispatch.settings import load_settings


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in (
        "DISPATCH_DATABASE_URL",
        "DISPATCH_REDIS_URL",
        "DISPATCH_HOST",
        "DISPATCH_PORT",
        "DISPATCH_DATA_DIR",
    ):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port, settings.data_dir) == ("127.0.0.1", 8110, Path("./var"))
    assert settings.database_url is None and settings.redis_url is None


def test_port_out_of_range_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_PORT", "70000")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "DISPATCH_PORT" in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize(
    "dsn",
    ["mysql://localhost/x", "postgresql://localhost:notaport/db", "not a url at all", "postgresql:///nohost"],
)
def test_database_url_that_does_not_parse_is_refused(monkeypatch: pytest.MonkeyPatch, dsn: str) -> None:
    monkeypatch.setenv("DISPATCH_DATABASE_URL", dsn)
    with pytest.raises(ConfigError, match="DISPATCH_DATABASE_URL"):
        load_settings()


def test_redis_url_scheme_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_REDIS_URL", "http://127.0.0.1:6379")
    with pytest.raises(ConfigError, match="DISPATCH_REDIS_URL"):
        load_settings()


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPATCH_PORT", raising=False)
    (tmp_path / ".env").write_text("DISPATCH_PORT=9123\nDISPATCH_REDIS_URL=redis://127.0.0.1:6379/3\n")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DISPATCH_PORT=9123\n")
    monkeypatch.setenv("DISPATCH_PORT", "9124")
    assert load_settings().port == 9124


def test_every_setting_is_documented() -> None:
    from dispatch.settings import Settings

    documented = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`DISPATCH_{name.upper()}`" not in documented]
    assert not missing, f"add to docs/configuration.md: {missing}"
