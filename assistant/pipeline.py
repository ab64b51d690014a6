"""The only orchestration: safety -> retrieve -> decide -> answer -> cite.

``Assistant`` is what the chat, the HTTP API, the CLI and the eval all call.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence

from assistant.answer import Answerer, TokenSink, UnitVectors
from assistant.cite import finalize
from assistant.coverage import assess, is_covered
from assistant.errors import InputError, QuestionTooLong
from assistant.followup import search_query
from assistant.llm import make_answerer
from assistant.prompts import load_prompt
from assistant.questionlog import QuestionLog
from assistant.retrieve import Retriever, make_retriever
from assistant.safety import Safety, red_flag, strip_hostile
from assistant.settings import Settings
from assistant.types import Answer, Kind, Turn
from ingest.embed import Embedder
from ingest.schema import find_collection, open_client

History = Sequence[Turn] | Sequence[dict[str, str]]


def parse_history(history: History | None) -> list[Turn]:
    turns: list[Turn] = []
    for i, turn in enumerate(history or []):
        if isinstance(turn, Turn):
            turns.append(turn)
            continue
        if not isinstance(turn, dict):
            raise InputError(f"history item {i + 1} must be an object with role and content")
        role, content = turn.get("role"), turn.get("content")
        if role not in ("user", "assistant") or not isinstance(content, str):
            raise InputError(
                f"history item {i + 1} needs role 'user' or 'assistant' and a text content"
            )
        turns.append(Turn(role, storable(content)))
    return turns


def storable(text: str) -> str:
    """``text`` with lone surrogates (broken UTF-16, JSON ``\\ud800`` escapes) made '?':
    the tokenizer, SQLite and UTF-8 responses cannot take them."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _chunks(text: str) -> Iterator[str]:
    """Word-sized pieces of ``text`` that join back to it exactly."""
    yield from re.findall(r"\S+\s*|\s+", text)


def preload_model() -> None:
    """Load the embedding model now (any later ``Embedder()`` shares it): start-up can do
    this while it does other work."""
    Embedder().warm_up()


class Assistant:
    """Answers readers' questions from the indexed articles."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        retriever: Retriever | None = None,
        answerer: Answerer | None = None,
        question_log: QuestionLog | None = None,
    ) -> None:
        self.settings = settings
        self.question_log = question_log  # when given, each ask is recorded for eval gaps
        self.embedder = embedder or Embedder()
        self.retriever = retriever or make_retriever(settings.retriever, settings, self.embedder)
        # the one place a backend is chosen (assistant/llm.py); unknown names raise BackendError
        self.answerer = answerer or make_answerer(settings, self.embedder)
        self.safety = Safety(settings, self.embedder)  # red_flags.yaml, patterns + semantic

    def chunk_count(self) -> int:
        collection = find_collection(open_client(self.settings), self.settings.collection)
        return collection.count() if collection else 0

    def warm_up(self) -> None:
        """Load the model, and embed the sentences of up to ``warm_passages`` passages, so a
        reader's first question is as fast as later ones (docs/benchmarks.md)."""
        self.ask("Which exercises strengthen the gluteus maximus?", log=False)
        vectors = getattr(self.answerer, "vectors", None)
        if not isinstance(vectors, UnitVectors) or self.settings.warm_passages == 0:
            return
        try:
            collection = find_collection(open_client(self.settings), self.settings.collection)
            if collection is None:
                return
            held = collection.get(include=["documents"], limit=self.settings.warm_passages)
        except Exception:  # best effort: a store hiccup at start-up costs speed, not answers
            return
        vectors.prefill(list(zip(held["ids"], held["documents"] or [], strict=False)))

    def _prompt(self, name: str) -> str:
        return load_prompt(self.settings.prompts_dir, name)

    def _check(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InputError("Please type a question.")
        question = storable(question.strip())
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLong(
                f"The question is {len(question)} characters long; "
                f"the limit is {self.settings.max_question_chars}."
            )
        return question

    def ask(
        self,
        question: str,
        history: History | None = None,
        *,
        log: bool = True,
        on_token: TokenSink | None = None,
    ) -> Answer:
        """One reply: an answer with citations, not_covered, or urgent. Always a disclaimer."""
        started = time.perf_counter()
        question = self._check(question)
        turns = parse_history(history)
        answer = self._answer(question, turns, on_token)
        self.safety.remind(answer, question, turns)  # an earlier, unresolved red flag
        answer.latency_ms = (time.perf_counter() - started) * 1000
        if log and self.question_log is not None:
            top = max((p.score for p in answer.passages), default=None)
            # no text kept for urgent and clinician replies (health data; docs/safety.md)
            private = bool(answer.safety) or answer.kind == Kind.URGENT
            answer.id = self.question_log.record(question, str(answer.kind), top, private=private)
        return answer

    def stream(self, question: str, history: History | None = None) -> Iterator[str | Answer]:
        """Yields the reply's text as it forms (str chunks), then the full Answer.

        An LLM backend's tokens come as the model writes them (``ask`` runs in a worker
        thread and hands them over); the final Answer is authoritative: its text has only
        the citations that stood, or is the extractive answer if the model failed.
        Otherwise the final text is yielded in word-sized chunks.
        """
        if not self.answerer.streams:
            answer = self.ask(question, history)
            yield from _chunks(answer.text)
            yield answer
            return
        tokens: queue.Queue[str | None] = queue.Queue()
        outcome: list[Answer | BaseException] = []

        def work() -> None:
            try:
                outcome.append(self.ask(question, history, on_token=tokens.put))
            except BaseException as error:  # handed to the reader's thread below
                outcome.append(error)
            finally:
                tokens.put(None)

        threading.Thread(target=work, name="supple-stream", daemon=True).start()
        streamed = False
        while (token := tokens.get()) is not None:
            streamed = True
            yield token
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        if not streamed:
            yield from _chunks(result.text)
        yield result

    def _reply(self, kind: Kind, prompt: str, **extra: object) -> Answer:
        return Answer(
            kind=kind,
            text=self._prompt(prompt),
            disclaimer=self._prompt("disclaimer"),
            backend=self.answerer.name,
            **extra,  # type: ignore[arg-type]
        )

    def _answer(
        self, question: str, turns: list[Turn], on_token: TokenSink | None = None
    ) -> Answer:
        # patterns, clinician, hostile; the semantic red-flag check waits for the query's vector
        verdict = self.safety.check(question, turns, semantic=False)
        if verdict is not None:
            return self._reply(verdict.kind, verdict.prompt, safety=verdict.category)
        question = strip_hostile(question)  # hostile clauses change nothing
        vocabulary = self.retriever.vocabulary()  # current after a re-ingest
        query = vocabulary.rewrite(search_query(question, turns))
        if turns:
            condensed = self.answerer.condense(question, turns)  # prompts/condense.md
            query = vocabulary.rewrite(condensed) if condensed else query
        # a follow-up whose search query names a red flag ("and with a fever?")
        if turns and query != question and red_flag(query) is not None:
            return self._reply(Kind.URGENT, "urgent")
        vector = self.embedder.embed_query(query)
        verdict = self.safety.check_meaning(question, None if turns else vector)
        if verdict is not None:
            return self._reply(verdict.kind, verdict.prompt, safety=verdict.category)
        passages = self.retriever.retrieve(query, self.settings.k, query_vector=vector)
        top = max((p.score for p in passages), default=0.0)
        coverage = assess(query, passages, vocabulary, top, self.embedder, vector)
        if not passages or not is_covered(coverage, self.settings.min_relevance):
            return self._reply(Kind.NOT_COVERED, "not_covered", passages=passages)
        draft = self.answerer.draft(
            question, passages, vector, list(coverage.terms), query=query, on_token=on_token
        )
        text, citations = finalize(draft, passages)
        if not citations:
            return self._reply(Kind.NOT_COVERED, "not_covered", passages=passages)
        return Answer(
            kind=Kind.ANSWER,
            text=text,
            citations=citations,
            passages=passages,
            disclaimer=self._prompt("disclaimer"),
            backend=self.answerer.name,
            note=draft.note,  # set when an LLM backend fell back to extractive
        )
