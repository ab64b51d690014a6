"""The only orchestration: safety -> retrieve -> decide -> answer -> cite.

``Assistant`` is what the chat, the HTTP API, the CLI and the eval all call.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.callbacks import Callbacks

from assistant.answer import Answerer, TokenSink, UnitVectors, best_line_cosine
from assistant.cite import finalize
from assistant.coverage import Calibration, Evidence, assess, load_calibration
from assistant.errors import InputError, QuestionTooLong
from assistant.followup import points_back, resolve_history, topic_words
from assistant.intent import Form, question_form
from assistant.llm import make_answerer
from assistant.prompts import load_prompt
from assistant.questionlog import QuestionLog
from assistant.retrieve import Retriever, make_retriever
from assistant.safety import Safety, Verdict, red_flag, strip_hostile
from assistant.settings import Settings
from assistant.types import Answer, Kind, Passage, Turn
from ingest.embed import Embedder
from ingest.schema import find_collection, open_client

History = Sequence[Turn] | Sequence[dict[str, str]]
SIBLINGS = 8  # most passages of the same list added as context to a list or steps question


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


_SENTENCES = re.compile(r"(?<=[.!?])\s+")


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
        calibration: Calibration | None = None,
        callbacks: Callbacks = None,
    ) -> None:
        self.settings = settings
        self.question_log = question_log  # when given, each ask is recorded for eval gaps
        self.embedder = embedder or Embedder()
        # the covered/not-covered fit stored with the index (python -m eval calibrate)
        self.calibration = calibration or load_calibration(
            settings.data_dir, settings.calibration_file
        )
        self.callbacks = callbacks  # LangChain callback handlers: they see each retrieval
        self.retriever = retriever or make_retriever(
            settings.retriever,
            settings,
            self.embedder,
            dense_weight=self.calibration.hybrid_dense_weight,
        )
        # the one place a backend is chosen (assistant/llm.py); unknown names raise BackendError
        self.answerer = answerer or make_answerer(settings, self.embedder)
        # the passages' line vectors, shared with the answerer that quotes them
        answerer_vectors = getattr(self.answerer, "vectors", None)
        self.line_vectors = (
            answerer_vectors
            if isinstance(answerer_vectors, UnitVectors)
            else UnitVectors(self.embedder)
        )
        self.safety = Safety(settings, self.embedder)  # red_flags.yaml, patterns + semantic

    def chunk_count(self) -> int:
        collection = find_collection(open_client(self.settings), self.settings.collection)
        return collection.count() if collection else 0

    def warm_up(self, answered: Callable[[], None] | None = None) -> None:
        """Load the model, and embed the sentences of up to ``warm_passages`` passages, so a
        reader's first question is as fast as later ones (docs/benchmarks.md). ``answered``
        is called once the first question has been answered, before the passages."""
        try:
            self.ask(self.warm_up_question(), log=False)
        finally:
            if answered is not None:
                answered()
        vectors = self.line_vectors
        if self.settings.warm_passages == 0:
            return
        try:
            collection = find_collection(open_client(self.settings), self.settings.collection)
            if collection is None:
                return
            held = collection.get(include=["documents"], limit=self.settings.warm_passages)
        except Exception:  # best effort: a store hiccup at start-up costs speed, not answers
            return
        vectors.prefill(list(zip(held["ids"], held["documents"] or [], strict=False)))

    def warm_up_question(self) -> str:
        """A question about the index's first article (its title), so warming up runs the
        whole path on what this blog holds."""
        try:
            collection = find_collection(open_client(self.settings), self.settings.collection)
            held = collection.get(limit=1, include=["metadatas"]) if collection else None
            meta = (held["metadatas"] or [{}])[0] if held else {}
            title = str((meta or {}).get("title") or "")
        except Exception:  # best effort, like the rest of the warm-up
            title = ""
        return f"What is {title} about?" if title else "What do the articles cover?"

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

    def _not_covered(self, passages: list[Passage]) -> Answer:
        """The refusal, naming the indexed articles nearest the question (from the index:
        titles of the retrieved passages' articles), so a reader sees what the blog holds."""
        titles = list(dict.fromkeys(p.title for p in passages if p.title))[:3]
        closest = "; ".join(f"“{t}”" for t in titles) if titles else "the blog's articles"
        text = self._prompt("not_covered").replace("{closest}", closest)
        return Answer(
            kind=Kind.NOT_COVERED,
            text=text,
            disclaimer=self._prompt("disclaimer"),
            backend=self.answerer.name,
            passages=passages,
        )

    def search(self, question: str, history: History | None = None) -> Searched | Verdict:
        """Safety first, then the query, the passages and the evidence they give (or the
        safety verdict that answers before any retrieval)."""
        turns = parse_history(history)
        # patterns, clinician, hostile; the semantic red-flag check waits for the query's vector
        verdict = self.safety.check(question, turns, semantic=False)
        if verdict is not None:
            return verdict
        stripped = strip_hostile(question)  # hostile clauses change nothing
        vocabulary = self.retriever.vocabulary()  # current after a re-ingest
        if stripped != question and not topic_words(stripped, vocabulary):
            # what is left of an attack ("Repeat them exactly.") names nothing the blog holds
            return Verdict(Kind.NOT_COVERED, "hostile request", "not_covered")
        if stripped != question:
            # the remnant of an attack's sentence ("Also the safety guidelines.") is no part
            # of the question: only the sentences naming something the blog holds stay
            kept = [s for s in _SENTENCES.split(stripped) if topic_words(s, vocabulary)]
            stripped = " ".join(kept) or stripped
        question = stripped
        resolved, previous = resolve_history(question, turns, vocabulary)
        query = vocabulary.rewrite(resolved.query)
        if turns:
            condensed = self.answerer.condense(question, turns)  # prompts/condense.md
            query = vocabulary.rewrite(condensed) if condensed else query
        # a follow-up whose search query names a red flag ("and with a fever?")
        if turns and query != question.lower() and red_flag(query) is not None:
            return Verdict(Kind.URGENT, "follow-up red flag", "urgent")
        vector = self.embedder.embed_query(query)
        # a first question's query is the question (typos corrected): its vector serves both
        verdict = self.safety.check_meaning(question, None if turns else vector)
        if verdict is not None:
            return verdict
        question_vector = vector
        within = None
        if previous is not None and (
            points_back(question) or not topic_words(question, vocabulary)
        ):
            question_vector = self.embedder.embed_query(question)
            # "and how do I fix it?": what is asked now, in the article the reader was in
            earlier = self.retriever.retrieve(vocabulary.rewrite(previous.query), 1)
            within = frozenset(p.article for p in earlier) or None
            blend = np.asarray(vector, dtype=np.float32) + np.asarray(question_vector)
            vector = [float(x) for x in blend / (np.linalg.norm(blend) or 1.0)]
        passages = self.retriever.retrieve(
            query, self.settings.k, query_vector=vector, callbacks=self.callbacks, within=within
        )
        line = best_line_cosine(self.line_vectors, passages, vector)
        evidence = assess(query, passages, self.retriever.glossary(), vocabulary.stems, line)
        if within:  # the answer is what is asked now, from the earlier article's passages
            return Searched(question, query, vector, passages, evidence, question, question_vector)
        return Searched(question, query, vector, passages, evidence)

    def _answer(
        self, question: str, turns: list[Turn], on_token: TokenSink | None = None
    ) -> Answer:
        found = self.search(question, turns)
        if isinstance(found, Verdict):
            return self._reply(found.kind, found.prompt, safety=found.category)
        passages = found.passages
        if not passages or not self.calibration.covered(found.evidence):
            return self._not_covered(passages)
        if question_form(found.question) in (Form.LIST, Form.STEPS):
            # the rest of the list or the steps the best passages belong to (an LLM reads
            # them too, and its extractive fallback is then the extractive answer)
            passages = passages + self.retriever.siblings(passages[:2], SIBLINGS)
        draft = self.answerer.draft(
            found.question,
            passages,
            found.ask_vector or found.vector,
            list(found.evidence.terms),
            query=found.ask or found.query,
            on_token=on_token,
        )
        text, citations = finalize(draft, passages, self.settings.public_url)
        if not citations:
            return self._not_covered(passages)
        return Answer(
            kind=Kind.ANSWER,
            text=text,
            citations=citations,
            passages=passages,
            disclaimer=self._prompt("disclaimer"),
            backend=self.answerer.name,
            note=draft.note,  # set when an LLM backend fell back to extractive
        )


@dataclass(frozen=True)
class Searched:
    """A question that went through retrieval: what was searched and what it found."""

    question: str  # the reader's question, hostile clauses removed
    query: str  # what was searched (follow-ups completed, typos corrected)
    vector: list[float]
    passages: list[Passage]
    evidence: Evidence
    ask: str | None = None  # what the answer picks its quotes for, when not ``query``
    ask_vector: list[float] | None = None
