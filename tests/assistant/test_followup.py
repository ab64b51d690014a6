"""Follow-up questions retrieve for what the reader means, offline."""

from __future__ import annotations

import pytest

from assistant.followup import is_follow_up, search_query
from assistant.pipeline import Assistant
from assistant.types import Turn

STRENGTHENING = "Strengthening Weak Muscles"


def user(text: str) -> Turn:
    return Turn("user", text)


class TestSearchQuery:
    def test_run_without_history_is_the_question(self) -> None:
        assert search_query("what is fascia?", []) == "what is fascia?"

    def test_run_standalone_question_ignores_history(self) -> None:
        history = [user("Which exercises strengthen the deep hip rotators?")]
        assert search_query("what is fascia?", history) == "what is fascia?"

    def test_run_new_topic_takes_the_earlier_intent(self) -> None:
        history = [
            user("Which exercises strengthen the deep hip rotators?"),
            Turn("assistant", "Monster Walks, Side-Lying Hip Abduction for deep hip rotators [1]."),
        ]
        query = search_query("And what about for the gluteus maximus?", history)
        assert "gluteus maximus" in query
        assert "strengthen" in query
        assert "rotators" not in query  # the old topic is replaced, not added

    def test_run_pointing_back_takes_the_earlier_topic(self) -> None:
        query = search_query(
            "what about stretches for that?", [user("why are my hip flexors tight?")]
        )
        assert "stretches" in query
        assert "flexors" in query  # the earlier topic: its word rare in English

    def test_run_chained_follow_ups_keep_the_first_topic(self) -> None:
        history = [user("what are fascial adhesions"), user("why do they form?")]
        assert "adhesions" in search_query("how do I get rid of them", history)

    def test_run_assistant_turns_are_not_searched(self) -> None:
        history = [user("what is fascia?"), Turn("assistant", "Glute Bridges [1].")]
        assert "Bridges" not in search_query("and why does it matter?", history)

    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ("And what about for the gluteus maximus?", True),
            ("what about stretches for that?", True),
            ("how do I get rid of them", True),
            ("Which exercises strengthen the gluteus maximus?", False),
            ("what is the piriformis?", False),
        ],
    )
    def test_run_is_follow_up(self, question: str, expected: bool) -> None:
        assert is_follow_up(question) is expected


class TestAskWithHistory:
    def test_run_gluteus_maximus_after_hip_rotators(self, assistant: Assistant) -> None:
        history = [
            {"role": "user", "content": "Which exercises help the deep hip rotators?"},
            {
                "role": "assistant",
                "content": "Monster Walks, Side-Lying Hip Abduction for deep hip rotators [1].",
            },
        ]
        answer = assistant.ask("And what about for the gluteus maximus?", history)
        assert answer.kind == "answer"
        assert "Glute Bridges" in answer.text
        assert answer.citations[0].section.endswith(STRENGTHENING)

    def test_run_stretches_for_that_carries_the_topic(self, assistant: Assistant) -> None:
        history = [{"role": "user", "content": "why are my hip flexors tight?"}]
        answer = assistant.ask("what about stretches for that?", history)
        assert answer.kind == "answer"
        assert "Hip flexor and lower back stretching" in answer.text

    def test_run_same_question_without_history_answers_otherwise(
        self, assistant: Assistant
    ) -> None:
        # the history is what points the question at the exercises
        answer = assistant.ask("And what about for the gluteus maximus?")
        assert not answer.citations[0].section.endswith(STRENGTHENING)


def test_the_second_one_is_the_second_item_of_the_last_reply(assistant: Assistant) -> None:
    first = assistant.ask("what are the mcgill big three", log=False)
    assert "Side Plank" in first.text
    history = [
        {"role": "user", "content": "what are the mcgill big three"},
        {"role": "assistant", "content": first.text},
    ]
    answer = assistant.ask("how do I do the second one?", history, log=False)
    assert answer.kind == "answer"
    assert all("side plank" in c.section.lower() for c in answer.citations), [
        c.section for c in answer.citations
    ]


def test_a_place_in_a_reply_in_prose_names_no_item() -> None:
    from assistant.followup import named_item

    assert named_item("how do I do the first one?", "Try pendulum swings and table slides.") is None
    assert named_item("and the last one?", "A: one two [1]. B: three four [2].") == "B: three four"
