"""Answer backends: the extractive default, or a LangChain chat model kept to the passages.

``make_answerer`` picks the backend from ``Settings.backend``: ``extractive``, or any
``PROVIDER:MODEL`` LangChain's ``init_chat_model`` knows (``chat_model``). The LLM
answerer streams the model's reply token by token, then maps each ``[n]`` it wrote to the
sentence of passage n that best supports the claim (dropping markers that point nowhere or
to a passage that does not support the claim), so ``cite.finalize`` keeps only honest
citations. If the model is unreachable, slow, or says nothing usable, the reader gets the
extractive answer with a note, never an error.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.answer import Answerer, ExtractiveAnswerer, TokenSink, units
from assistant.cite import MARKER, Draft, finalize
from assistant.errors import BackendError
from assistant.prompts import chat_prompt, load_template
from assistant.safety import scrub_reply, strip_hostile
from assistant.settings import Settings
from assistant.text import key_terms, stems
from assistant.types import Passage, Turn
from ingest.embed import Embedder

log = logging.getLogger(__name__)

FALLBACK_NOTE = "The language model was unavailable; this answer quotes the articles directly."
ANSWER_VARIABLES = ("passages", "question", "search")  # prompts/answer.md's placeholders
BACKEND_CHOICES = (
    "'extractive', 'openai:MODEL', 'ollama:MODEL' or another PROVIDER:MODEL that LangChain's "
    "init_chat_model knows (anthropic, groq, mistralai, google_genai, ...)"
)


def make_answerer(settings: Settings, embedder: Embedder) -> Answerer:
    """The answerer ``settings.backend`` names; an unknown name raises with the choices."""
    spec = settings.backend.strip()
    extractive = ExtractiveAnswerer(embedder, settings.max_quotes)
    if spec.lower() == "extractive":
        return extractive
    return LLMAnswerer(spec, chat_model(spec, settings), extractive, embedder, settings)


def chat_model(spec: str, settings: Settings) -> Any:
    """``PROVIDER:MODEL`` through LangChain's ``init_chat_model``: any provider it knows, once
    its integration package is installed. Only our own limits are added here (no retries,
    temperature 0, the token cap, the timeout; the base URL and key where set); each
    integration reads its own key (ANTHROPIC_API_KEY, GROQ_API_KEY, ...) as LangChain does."""
    from langchain.chat_models import init_chat_model

    provider, _, model = (part.strip() for part in spec.partition(":"))
    provider = provider.lower()
    if not provider or not model or provider == "extractive":
        raise BackendError(f"unknown backend '{spec}': choose {BACKEND_CHOICES}")
    try:
        limits = _limits(provider, spec, settings)
        return init_chat_model(model, model_provider=provider, **limits)
    except ImportError as exc:  # the integration package is missing: name it, and how
        found = re.search(r"pip install ([\w.\-\[\]]+)", str(exc))
        package = found.group(1) if found else f"langchain-{provider.replace('_', '-')}"
        raise BackendError(
            f"backend '{spec}' needs the {package} package: pip install {package}"
        ) from exc
    except ValueError as exc:  # an unknown provider, or settings its class refuses
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if first.startswith("Unsupported"):
            raise BackendError(
                f"unknown backend '{spec}': LangChain knows no provider '{provider}'; "
                f"choose {BACKEND_CHOICES}"
            ) from exc
        raise BackendError(f"backend '{spec}' cannot be set up: {first}") from exc


def _limits(provider: str, spec: str, settings: Settings) -> dict[str, Any]:
    """The keyword arguments each provider's chat class takes for our limits."""
    match provider:
        case "ollama":  # Ollama's client names them its own way
            return {
                "base_url": settings.llm_base_url,
                "temperature": 0,
                "num_predict": settings.llm_max_tokens,
                "client_kwargs": {"timeout": settings.llm_timeout},
            }
        case "openai":
            key = settings.openai_api_key or ("not-needed" if settings.llm_base_url else None)
            if key is None:
                raise BackendError(
                    f"{spec} needs OPENAI_API_KEY, or SUPPLE_LLM_BASE_URL for a local "
                    "OpenAI-compatible server"
                )
            extra: dict[str, Any] = {"api_key": key, "base_url": settings.llm_base_url}
        case _:
            extra = {"base_url": settings.llm_base_url} if settings.llm_base_url else {}
    return {
        **extra,
        "timeout": settings.llm_timeout,
        "max_retries": 0,  # a retry doubles the wait; the extractive answer is the retry
        "temperature": 0,
        "max_tokens": settings.llm_max_tokens,
    }


def numbered(passages: Sequence[Passage]) -> str:
    """The passages as the model sees them: ``[n] Title — Section`` then the text."""
    return "\n\n".join(
        f"[{n}] {p.title} — {p.section}\n{p.text}" for n, p in enumerate(passages, 1)
    )


class CitationFilter:
    """Passes streamed text on, holding back ``[...]`` until it is complete, and drops
    markers to passages that do not exist, so an invented ``[9]`` never flashes by."""

    def __init__(self, passages: int, sink: TokenSink) -> None:
        self.passages = passages
        self.sink = sink
        self.held = ""

    def feed(self, text: str) -> None:
        self.held += text
        out: list[str] = []
        while self.held:
            found = re.search(r"\s?\[", self.held)
            if not found:  # keep a trailing space back: a marker may follow it
                cut = len(self.held) - 1 if self.held[-1].isspace() else len(self.held)
                out.append(self.held[:cut])
                self.held = self.held[cut:]
                break
            out.append(self.held[: found.start()])
            self.held = self.held[found.start() :]
            marker = re.match(r"\s?\[(\d{1,3})\]", self.held)
            if marker:
                if 1 <= int(marker.group(1)) <= self.passages:
                    out.append(marker.group(0))
                self.held = self.held[marker.end() :]
            elif re.fullmatch(r"\s?\[\d{0,3}", self.held):
                break  # maybe a marker: wait for more
            else:
                cut = self.held.index("[") + 1
                out.append(self.held[:cut])
                self.held = self.held[cut:]
        if "".join(out):
            self.sink("".join(out))

    def flush(self) -> None:
        if self.held:
            self.sink(self.held)
            self.held = ""


_MARKER_GROUP = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})+)\]")
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,3}\])+)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(\s+)|(\n+)")


def tidy_markers(reply: str) -> str:
    """``[1, 2]`` -> ``[1] [2]``; ``claim. [1]`` -> ``claim [1].`` (a marker goes with its claim)."""
    reply = _MARKER_GROUP.sub(
        lambda m: " ".join(f"[{n.strip()}]" for n in re.split(r"[,;]", m.group(1))), reply
    )
    return _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", reply)


class LLMAnswerer:
    """A LangChain chat model answering from the numbered passages, with ``[n]`` citations."""

    streams = True

    def __init__(
        self,
        name: str,
        chat: Any,
        fallback: ExtractiveAnswerer,
        embedder: Embedder,
        settings: Settings,
    ) -> None:
        self.name = name
        self.chat = chat
        self.fallback = fallback
        self.embedder = embedder
        self.settings = settings
        self.vectors = fallback.vectors

    def draft(
        self,
        question: str,
        passages: list[Passage],
        query_vector: list[float],
        key: list[str],
        *,
        query: str | None = None,
        on_token: TokenSink | None = None,
    ) -> Draft:
        """The model's cited reply; the extractive one, with a note, when the model fails."""
        try:
            reply = self._generate(question, query, passages, on_token)
            draft = self.to_draft(scrub_reply(reply), passages)
            if finalize(draft, passages)[1]:
                return draft
            reason = f"no valid citation in {reply[:80]!r}"
        except Exception as exc:  # whatever the model does wrong, the reader gets an answer
            reason = f"{type(exc).__name__}: {exc}"
        log.warning("backend %s fell back to extractive: %s", self.name, reason)
        extractive = self.fallback.draft(question, passages, query_vector, key)
        return Draft(extractive.text, extractive.quotes, note=FALLBACK_NOTE)

    def _generate(
        self, question: str, query: str | None, passages: list[Passage], on_token: TokenSink | None
    ) -> str:
        context = f"{query}" if query and query.strip() != question.strip() else question
        prompt = chat_prompt(self.settings.prompts_dir, "system", "answer", ANSWER_VARIABLES)
        messages = prompt.invoke(
            {"passages": numbered(passages), "question": question, "search": context}
        )
        deadline = time.monotonic() + self.settings.llm_max_seconds
        sink = CitationFilter(len(passages), on_token) if on_token else None
        parts: list[str] = []
        for chunk in self.chat.stream(messages):
            text = chunk.content if isinstance(chunk.content, str) else ""
            parts.append(text)
            if sink and text:
                sink.feed(text)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no full reply within {self.settings.llm_max_seconds:g} s")
        if sink:
            sink.flush()
        return "".join(parts).strip()

    def to_draft(self, reply: str, passages: list[Passage]) -> Draft:
        """Map each ``[n]`` of the reply to the sentence of passage n that best supports the
        claim it ends. Markers to no passage, or to one that does not support the claim,
        become ``[0]`` (``finalize`` removes them); a sentence whose every marker fell is
        an unsupported claim and is dropped whole."""
        pieces = _SENTENCE_BREAK.split(tidy_markers(reply))
        quotes: dict[int, tuple[Passage, str]] = {}
        keys: dict[tuple[int, str], int] = {}
        out: list[str] = []
        for piece in pieces:
            if not piece or not MARKER.search(piece):
                out.append(piece or "")
                continue
            claim = MARKER.sub("", piece).strip()

            def cite(match: re.Match[str], claim: str = claim) -> str:
                n = int(match.group(1))
                quoted = self._support(claim, passages[n - 1]) if 1 <= n <= len(passages) else None
                if quoted is None:
                    return " [0]"
                key = keys.setdefault((n, quoted), len(keys) + 1)
                quotes[key] = (passages[n - 1], quoted)
                return f" [{key}]"

            cited = MARKER.sub(cite, piece)
            out.append(cited if re.search(r"\[[1-9]\d*\]", cited) else "")
        return Draft(re.sub(r"[ \t]{2,}", " ", "".join(out)).strip(), quotes)

    def _support(self, claim: str, passage: Passage) -> str | None:
        """The unit (sentence or list item) of ``passage`` closest to ``claim``, when the
        claim is close in meaning to it and most of its key terms are in the passage."""
        texts = units(passage.text)
        terms = key_terms(claim)
        if not claim or not texts or not terms:
            return None
        held = set(stems(f"{passage.title} {passage.section} {passage.text}"))
        prefixes = {h[:5] for h in held if len(h) >= 5}  # "fascial" ~ "fascia", "pelvic" ~ "pelvis"
        found = sum(t in held or (len(t) >= 5 and t[:5] in prefixes) for t in terms)
        if found / len(terms) < self.settings.llm_min_term_share:
            return None
        sims = self.vectors.get(passage, texts) @ self.embedder.encode([claim])[0]
        best = int(np.argmax(sims))
        return texts[best] if float(sims[best]) >= self.settings.llm_min_support else None

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        """The follow-up as a standalone search query (``prompts/condense.md``); None when the
        model fails, so the offline query stands."""
        if not turns:
            return None
        history = "\n".join(f"{t.role}: {strip_hostile(t.content)[:600]}" for t in list(turns)[-6:])
        template = load_template(self.settings.prompts_dir, "condense", ("history", "question"))
        prompt = template.invoke({"history": history, "question": question})
        try:
            reply = self.chat.invoke(prompt).content
        except Exception as exc:  # the offline query is good enough
            log.warning("backend %s could not condense: %s: %s", self.name, type(exc).__name__, exc)
            return None
        lines = [ln for ln in str(reply).strip().splitlines() if ln.strip()] if reply else []
        query = strip_hostile(lines[0].strip().strip("\"'“”").strip()) if lines else ""
        return query[:300] or None
