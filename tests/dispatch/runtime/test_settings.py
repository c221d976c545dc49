from pathlib import Path

import pytest

from dispatch.errors import ConfigError
from dispatch.runtime.redis_client import parse_target
from dispatch.runtime.settings import load_settings


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


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:7002",
        "redis+cluster://:secret@redis-a:7000/0",
        "redis+sentinel://s1:26379,s2:26379,s3:26379/dispatch/2",
        "redis+sentinel://user:secret@s1/dispatch?sentinel_password=other",
    ],
)
def test_cluster_and_sentinel_urls_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DISPATCH_REDIS_URL", url)
    assert load_settings(_env_file=None).redis_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+cluster://10.0.0.1:7000/3", "only database 0"),
        ("redis+cluster://10.0.0.1:notaport", "is not host:port"),
        ("redis+cluster:///0", "names no host"),
        ("redis+cluster://10.0.0.1:7000?timeout=3", "unknown option 'timeout'"),
        ("redis+sentinel://s1:26379,s2:26379", "name the Sentinel service"),
        ("redis+sentinel://s1:26379/dispatch/first", "is a number"),
        ("http://127.0.0.1:6379", "redis+cluster:// or redis+sentinel://"),
    ],
)
def test_a_wrong_cluster_or_sentinel_url_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("DISPATCH_REDIS_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert caught.value.message.startswith("invalid configuration: DISPATCH_REDIS_URL: ")
    assert says in caught.value.message and "\n" not in caught.value.message


def test_sentinel_url_parts_and_default_ports() -> None:
    target = parse_target("redis+sentinel://user:p%40ss@s1,[::1]:26380/dispatch/2?sentinel_password=s%26cret")
    assert target.nodes == (("s1", 26379), ("::1", 26380))
    assert (target.service, target.db) == ("dispatch", 2)
    assert (target.username, target.password, target.sentinel_password) == ("user", "p@ss", "s&cret")
    assert parse_target("redis+cluster://a,b:7001").nodes == (("a", 6379), ("b", 7001))


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
    from dispatch.runtime.settings import Settings

    documented = (Path(__file__).resolve().parents[3] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`DISPATCH_{name.upper()}`" not in documented]
    assert not missing, f"add to docs/configuration.md: {missing}"
