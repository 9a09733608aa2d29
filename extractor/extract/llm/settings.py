"""LLM backend settings and their resolution from code, a config file and the environment.

Resolution order (first one that sets a field wins), implemented once in `resolve_llm_settings`:

1. explicit values (keyword arguments, e.g. from CLI options);
2. the config file: `EXTRACTOR_CONFIG` if set, else `~/.config/extractor/config.toml` if it
   exists; its `[llm]` table uses the field names below, prices in `[llm.prices."<model>"]`;
3. the environment: `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `EXTRACTOR_MODEL`, `EXTRACTOR_LLM_MODE`;
4. the defaults of `LLMSettings`.

The API key is a `SecretStr`: it never appears in `repr`, `str`, JSON dumps or any error
message raised here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import instructor
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from extractor.core.errors import ConfigError
from extractor.extract.llm.costs import DEFAULT_PRICES, ModelPrice

CONFIG_ENV = "EXTRACTOR_CONFIG"
DEFAULT_CONFIG_PATH = Path("~/.config/extractor/config.toml")
#: Environment variable -> settings field (lowest-priority source before the defaults).
ENV_FIELDS: dict[str, str] = {
    "OPENAI_API_KEY": "api_key",
    "OPENAI_BASE_URL": "base_url",
    "EXTRACTOR_MODEL": "model",
    "EXTRACTOR_LLM_MODE": "mode",
}


class LLMMode(StrEnum):
    """How the structured answer travels: a forced tool call, a JSON body, or a ```json block."""

    TOOLS = "tools"
    JSON = "json"
    MD_JSON = "md_json"

    @property
    def instructor_mode(self) -> instructor.Mode:
        return {
            LLMMode.TOOLS: instructor.Mode.TOOLS,
            LLMMode.JSON: instructor.Mode.JSON,
            LLMMode.MD_JSON: instructor.Mode.MD_JSON,
        }[self]


class LLMSettings(BaseModel):
    """Everything the LLM backend needs to know; immutable once resolved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = "gpt-4o-mini"
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. .../v1")
    api_key: SecretStr | None = None
    mode: LLMMode = LLMMode.TOOLS
    max_retries: int = Field(default=2, ge=0, le=10, description="Validation re-asks per call.")
    http_retries: int = Field(default=4, ge=0, le=20, description="Retries of 429 / 5xx / timeouts.")
    timeout: float = Field(default=120.0, gt=0, description="Seconds per HTTP request.")
    call_budget: float = Field(
        default=600.0,
        gt=0,
        description="Seconds one logical call may take in all (re-asks and retries included); "
        "past it the call fails and its section falls back to the rules output, flagged.",
    )
    retry_after_cap: float = Field(default=60.0, ge=0, description="Longest Retry-After honoured (s).")
    backoff_initial: float = Field(default=1.0, ge=0, description="First backoff for 5xx/timeouts (s).")
    backoff_max: float = Field(default=30.0, ge=0)
    concurrency: int = Field(default=4, ge=1, le=256, description="Model calls in flight at once.")
    cache: bool = Field(default=True, description="False: do not read the cache (answers still written).")
    temperature: float | None = Field(default=0.0, description='None (or "none" in TOML): not sent.')
    max_output_tokens: int | None = Field(
        default=None, ge=1, description="Fixed max_tokens per call; default: scaled to what the call shows."
    )
    replay_dir: Path | None = Field(
        default=None,
        description="Answer from recorded cassettes only (no network); misses become task files.",
    )
    record_dir: Path | None = Field(
        default=None, description="Send requests to the provider and record every answer as a cassette."
    )
    max_section_chars: int = Field(default=6000, ge=500, description="Longer sections are split.")
    gold_dir: Path | None = Field(default=None, description="Few-shot source; default eval/gold.")
    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("temperature", mode="before")
    @classmethod
    def _omitted_temperature(cls, value: Any) -> Any:
        # TOML has no null: `temperature = "none"` omits it (reasoning models reject one).
        return None if isinstance(value, str) and value.strip().lower() in {"", "none", "omit"} else value

    @field_validator("base_url", mode="before")
    @classmethod
    def _blank_url_is_none(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value

    def require_api_key(self) -> SecretStr:
        """The API key, or ConfigError saying where to set one (the message names no secret).

        Replaying cassettes sends nothing anywhere: no key is needed."""
        if self.replay_dir is not None and (self.api_key is None or not self.api_key.get_secret_value()):
            return SecretStr("replay")
        if self.api_key is None or not self.api_key.get_secret_value().strip():
            raise ConfigError(
                "no API key for the LLM backend: set OPENAI_API_KEY, or api_key in the [llm] table "
                f"of {DEFAULT_CONFIG_PATH} (or the file named by {CONFIG_ENV})"
            )
        return self.api_key

    def price(self) -> ModelPrice | None:
        """Price of `model` per 1M tokens, or None when the table does not know it."""
        return self.prices.get(self.model)


def config_file_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The config file to read: `$EXTRACTOR_CONFIG` (must exist), else the default if present."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file named by {CONFIG_ENV} does not exist", source=str(path))
        return path
    default = DEFAULT_CONFIG_PATH.expanduser()
    return default if default.is_file() else None


def read_config_llm_table(path: Path) -> dict[str, Any]:
    """The `[llm]` table of a TOML config file ({} if absent). ConfigError if malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file: {type(e).__name__}", source=str(path)) from e
    except tomllib.TOMLDecodeError as e:
        # The decoder's message names a line/column, never the value: safe to show.
        raise ConfigError(f"malformed TOML: {e}", source=str(path)) from e
    table = data.get("llm", {})
    if not isinstance(table, dict):
        raise ConfigError("[llm] must be a table", source=str(path))
    return dict(table)


def resolve_llm_settings(
    *,
    config_path: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    **explicit: Any,
) -> LLMSettings:
    """Resolve settings: explicit > config file > environment > defaults (see module doc).

    Explicit values of None count as "not given". `prices` merge per model (defaults, then
    config, then explicit). Raises ConfigError naming the source on a bad value; the message
    never contains a value (so never a key).
    """
    env = os.environ if environ is None else environ
    path = Path(config_path).expanduser() if config_path is not None else config_file_path(env)
    from_config = read_config_llm_table(path) if path is not None else {}
    from_env = {field: env[var] for var, field in ENV_FIELDS.items() if env.get(var, "").strip()}
    given = {k: v for k, v in explicit.items() if v is not None}

    merged: dict[str, Any] = {**from_env, **from_config, **given}
    prices: dict[str, Any] = dict(DEFAULT_PRICES)
    for source in (from_config, given):
        prices.update(source.get("prices") or {})
    merged["prices"] = prices
    try:
        return LLMSettings.model_validate(merged)
    except ValidationError as e:
        origin = str(path) if path is not None and from_config else "LLM settings"
        # `from None`: the chained ValidationError would print its input values (a key) in
        # a --verbose traceback.
        raise ConfigError(f"invalid settings: {_describe_errors(e)}", source=origin) from None


def _describe_errors(error: ValidationError) -> str:
    # Field names and messages only: pydantic's default text echoes the input value,
    # which could be an API key.
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "settings"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
