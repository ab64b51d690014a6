"""The assistant's settings: one pydantic tree, read from the environment by entry points only."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ingest.settings import StoreSettings

EXACT_SEARCH_MAX = 20_000  # exact scan measured 0.34 ms at 10k, 3.8 ms at 100k; HNSW 1.5 / 2.1 ms
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class Settings(StoreSettings):
    """Everything the app, the CLI and the eval hand down to the ``Assistant``."""

    backend: str = Field(
        "extractive",
        description="'extractive' or a LangChain chat model spec PROVIDER:MODEL, any provider "
        "init_chat_model knows: 'openai:MODEL', 'ollama:MODEL', 'anthropic:MODEL', 'groq:MODEL', ...",
    )
    llm_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    openai_api_key: str | None = Field(
        None,
        validation_alias="OPENAI_API_KEY",
        description="API key for OpenAI-compatible servers.",
    )
    host: str = Field("127.0.0.1", description="Where `python app.py` listens.")
    port: int = Field(7860, description="Port `python app.py` listens on.")
    allowed_origins: str = Field(
        "", description="Comma-separated origins allowed to embed the widget and call the API."
    )
    allowed_hosts: str = Field(
        "",
        description="Comma-separated host names the app answers to (the Host header), e.g. "
        "'chat.blog.example' or '*.blog.example'; localhost, 127.0.0.1 and ::1 always; '*' any. "
        "Other names get 400 (DNS rebinding).",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (10.0.0.0/8) of reverse proxies "
        "whose Forwarded / X-Forwarded-For headers name the reader; default none: the peer "
        "address is the reader.",
    )
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a connection may take to send a request's headers."
    )
    body_timeout: float = Field(
        10.0, gt=0, description="Seconds a request body may pause before the request gets 408."
    )
    max_connections: int = Field(
        200,
        ge=1,
        description="Connections and requests served at once by `python app.py`; more get 503.",
    )
    max_chat_body_bytes: int = Field(
        262144,
        ge=1024,
        description="Largest request body to the chat's /gradio_api routes, which carry the "
        "whole conversation each turn (HTTP 413 above).",
    )
    rate_requests_per_minute: int = Field(
        600,
        ge=0,
        description="Requests of any kind (pages, scripts, chat events, API) per minute one "
        "client address may make; 0 = no cap.",
    )
    prompts_dir: Path = Field(PROMPTS_DIR, description="Folder of prompt files.")
    retriever: str = Field(
        "hybrid", description="Retriever: 'hybrid' (dense + BM25, fused), 'dense' or 'bm25'."
    )
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    hybrid_dense_weight: float | None = Field(
        None,
        ge=0,
        description="Weight of the cosine against BM25's (scaled by the query's best, 1.0) in "
        "the hybrid retriever's score fusion; unset = the weight `python -m eval calibrate` "
        "fitted (else 4).",
    )
    calibration_file: Path | None = Field(
        None,
        description="The covered/not-covered fit to use; unset = data_dir/calibration.json "
        "(written by `python -m eval calibrate`), else the fit shipped with the package.",
    )
    exact_search_max: int = Field(
        EXACT_SEARCH_MAX,
        ge=0,
        description="Up to this many passages the dense ranking scans every vector in memory "
        "(exact; 0.34 ms measured at 10k); above it, Chroma's HNSW index (docs/benchmarks.md).",
    )
    max_question_chars: int = Field(
        4000, description="Longest question accepted (readers tell their story)."
    )
    max_body_bytes: int = Field(
        262144, ge=1024, description="Largest /api/ask request body in bytes (HTTP 413 above)."
    )
    rate_per_minute: int = Field(
        20, ge=0, description="Questions per minute one client address may ask the API; 0 = no cap."
    )
    rate_per_day: int = Field(
        500,
        ge=0,
        description="Questions per UTC day one client address may ask the API; 0 = no cap.",
    )
    max_quotes: int = Field(3, description="Most quoted passages in an extractive reply.")
    public_url: str = Field(
        "",
        description="This app's public address (https://ask.blog.example): citations of an "
        "article without a url link to PUBLIC_URL/articles/<slug>; empty = relative links.",
    )
    blog_url: str = Field(
        "", description="The blog's home page, linked from the app's /articles/<slug> pages."
    )
    warm_passages: int = Field(
        2000,
        ge=0,
        description="Passages whose sentences are embedded at start-up, so first questions are fast.",
    )
    query_threads: int = Field(
        1,
        ge=1,
        description="Torch threads the app uses to embed questions; one per request measured "
        "2.9x faster than two on 2 busy cores (docs/benchmarks.md).",
    )
    llm_timeout: float = Field(
        20.0,
        gt=0,
        description="Seconds to wait for the language model to connect or send the next token "
        "before the reader gets the extractive answer instead.",
    )
    llm_max_seconds: float = Field(
        60.0, gt=0, description="Longest a language model reply may take in all (then extractive)."
    )
    llm_max_tokens: int = Field(
        500, ge=16, description="Most tokens a language model reply may use."
    )
    llm_min_support: float = Field(
        0.5,
        description="Cosine similarity a model's claim needs with a sentence of the passage it "
        "cites for the citation to stand (else the claim is dropped; docs/safety.md).",
    )
    llm_min_term_share: float = Field(
        0.65,
        description="Share of a model's claim's key terms the cited passage must contain for "
        "the citation to stand (docs/safety.md).",
    )
    question_log: bool = Field(
        True,
        description="Record each question's text (redacted; none for urgent and clinician "
        "replies), reply kind and top score (no IP or identity) "
        "in data_dir/questions.sqlite3 for `python -m eval gaps`; false turns it off.",
    )
    question_log_days: float = Field(
        30, gt=0, description="Days a logged question is kept before it is deleted."
    )
    red_flag_semantic: bool = Field(
        True,
        description="Beside the red-flag patterns, compare the message's sentences with the "
        "red-flag file's example wordings by embedding (docs/safety.md); false: patterns only.",
    )

    @field_validator("public_url", "blog_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError(f"'{value}' is not an http(s) address like https://ask.blog.example")
        return value
