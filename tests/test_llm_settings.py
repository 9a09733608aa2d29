"""LLM settings: one resolution order, modes, prices, and a key that never shows."""

from __future__ import annotations

from pathlib import Path

import instructor
import pytest

from extractor.core.errors import ConfigError
from extractor.extract.llm.costs import TokenUsage, estimate_cost
from extractor.extract.llm.settings import LLMMode, LLMSettings, resolve_llm_settings

KEY = "sk-settings-secret-0123456789"


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_explicit_beats_config_beats_environment(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml",
        '[llm]\nmodel = "from-config"\nbase_url = "http://config.invalid/v1"\nmax_retries = 4\n',
    )
    env = {
        "OPENAI_API_KEY": KEY,
        "OPENAI_BASE_URL": "http://env.invalid/v1",
        "EXTRACTOR_MODEL": "from-env",
        "EXTRACTOR_LLM_MODE": "md_json",
    }
    settings = resolve_llm_settings(config_path=config, environ=env, model="explicit", timeout=None)
    assert settings.model == "explicit"  # explicit wins; None counts as not given
    assert settings.base_url == "http://config.invalid/v1"  # config beats environment
    assert settings.max_retries == 4
    assert settings.mode is LLMMode.MD_JSON  # only the environment set it
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    assert settings.timeout == LLMSettings().timeout  # default


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    config = write_config(tmp_path / "other.toml", '[llm]\nmode = "JSON"\napi_key = "sk-from-file-123"\n')
    settings = resolve_llm_settings(environ={"EXTRACTOR_CONFIG": str(config)})
    assert settings.mode is LLMMode.JSON
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-from-file-123"


def test_missing_named_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_llm_settings(environ={"EXTRACTOR_CONFIG": str(tmp_path / "missing.toml")})


def test_default_config_location_is_used_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".config" / "extractor").mkdir(parents=True)
    write_config(tmp_path / ".config" / "extractor" / "config.toml", '[llm]\nmodel = "home-model"\n')
    assert resolve_llm_settings(environ={}).model == "home-model"


def test_modes_map_to_instructor_modes() -> None:
    assert LLMMode.TOOLS.instructor_mode is instructor.Mode.TOOLS
    assert LLMMode.JSON.instructor_mode is instructor.Mode.JSON
    assert LLMMode.MD_JSON.instructor_mode is instructor.Mode.MD_JSON


def test_key_never_shows_in_repr_dump_or_errors(tmp_path: Path) -> None:
    settings = resolve_llm_settings(
        environ={"OPENAI_API_KEY": KEY}, config_path=write_config(tmp_path / "c.toml", "")
    )
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert KEY not in text
    bad = write_config(tmp_path / "bad.toml", f'[llm]\napi_key = "{KEY}"\ntimeout = "soon"\nunknown = 1\n')
    with pytest.raises(ConfigError) as raised:
        resolve_llm_settings(config_path=bad, environ={})
    message = str(raised.value)
    assert "timeout" in message and "unknown" in message and str(bad) in message
    assert KEY not in message and raised.value.__cause__ is None


def test_key_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    bad = write_config(tmp_path / "bad.toml", "[llm]\napi_key = 987654321987\n")
    with pytest.raises(ConfigError) as raised:
        resolve_llm_settings(config_path=bad, environ={})
    assert "api_key" in str(raised.value) and "987654321987" not in str(raised.value)


def test_malformed_config_names_the_file(tmp_path: Path) -> None:
    bad = write_config(tmp_path / "broken.toml", "[llm\nmodel = ")
    with pytest.raises(ConfigError) as raised:
        resolve_llm_settings(config_path=bad, environ={})
    assert str(bad) in str(raised.value) and "malformed TOML" in str(raised.value)


def test_missing_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        LLMSettings().require_api_key()


def test_price_table_defaults_config_and_unknown_models(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        '[llm.prices."my-local-model"]\ninput = 0.5\noutput = 1.5\n[llm.prices."gpt-4o"]\ninput = 1\noutput = 1\n',
    )
    settings = resolve_llm_settings(config_path=config, environ={}, model="my-local-model")
    usage = TokenUsage(input_tokens=2_000_000, output_tokens=1_000_000)
    assert estimate_cost(usage, settings.price()) == pytest.approx(2 * 0.5 + 1.5)
    assert settings.prices["gpt-4o"].input == 1  # config overrides a default
    assert settings.prices["gpt-4o-mini"].input == 0.15  # defaults stay
    unknown = resolve_llm_settings(config_path=config, environ={}, model="mystery-model")
    assert unknown.price() is None and estimate_cost(usage, unknown.price()) is None
