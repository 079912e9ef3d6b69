"""All of llamapilot's configuration, in one place.

One pydantic-settings class reads, in order of precedence: explicit values (command-line
flags), environment variables (``LLAMAPILOT_*``), the config file (TOML, at
``$LLAMAPILOT_CONFIG`` or ``~/.config/llamapilot/config.toml``), then the defaults below.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from llamapilot.errors import InputError


def default_config_path() -> Path:
    env = os.environ.get("LLAMAPILOT_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "llamapilot" / "config.toml"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llamapilot"


class Settings(BaseSettings):
    """llamapilot's settings. Every field is also ``LLAMAPILOT_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="LLAMAPILOT_",
        extra="ignore",
        validate_default=True,
        protected_namespaces=(),
    )

    # --- model and engine -------------------------------------------------------------
    model: str | None = Field(
        None, description="Path of a GGUF model file; unset uses the embedded SmolLM2-135M."
    )
    backend: str = Field("llama-cpp", description="Backend name (entry point).")
    n_ctx: int = Field(4096, ge=256, le=1_048_576, description="Context window in tokens.")
    n_threads: int | None = Field(None, ge=1, description="CPU threads; unset uses all cores.")
    n_batch: int = Field(512, ge=8, le=8192, description="Prompt evaluation batch size.")
    template: str | None = Field(
        None, description="Prompt template name; unset detects it from the model."
    )

    # --- completion -------------------------------------------------------------------
    max_tokens: int = Field(96, ge=1, le=4096, description="Default maximum generated tokens.")
    max_lines: int = Field(16, ge=1, le=500, description="Most lines in a multi-line suggestion.")
    prefix_tokens: int = Field(
        1024, ge=16, description="Token budget for the document text before the cursor."
    )
    suffix_tokens: int = Field(
        256, ge=0, description="Token budget for the document text after the cursor."
    )
    context_tokens: int = Field(768, ge=0, description="Token budget for context from other files.")

    # --- audit log --------------------------------------------------------------------
    audit: bool = Field(True, description="Log every prompt and response to SQLite.")
    data_dir: Path = Field(default_factory=default_data_dir, description="Where state lives.")

    # --- server -----------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(8080, ge=0, le=65535, description="Port the HTTP server binds.")
    api_key: str | None = Field(None, description="Bearer key required by the HTTP server.")
    max_queue: int = Field(
        64, ge=1, le=10_000, description="Requests that may wait for the model; more get 429."
    )
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body accepted (else 413)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names accepted besides loopback and the bind address ('*': any).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins accepted besides loopback ones, e.g. https://example.com.",
    )
    shutdown_timeout: float = Field(
        10.0, ge=0, le=3600, description="Seconds SIGTERM waits for open requests to finish."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=default_config_path()),
        )


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (``overrides``; None means not given), env and the config file.

    Raises :class:`InputError` naming the field on an invalid value.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise InputError(f"invalid setting {field}: {err.get('msg')}", param=field) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed config file
        raise InputError(f"cannot read config file {default_config_path()}: {exc}") from None


if sys.version_info < (3, 11):  # pragma: no cover - TomlConfigSettingsSource needs tomli
    import importlib.util

    if importlib.util.find_spec("tomli") is None:
        raise ImportError("llamapilot on Python 3.10 needs the 'tomli' package")
