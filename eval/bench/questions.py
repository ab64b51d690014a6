"""Reader questions the benchmark asks: what readers type, answered or honestly not covered.

No red flags among them: those are answered before retrieval and would flatter the timings.
The ONNX experiment (docs/benchmarks.md) compared the top-5 passages of these questions
across encoders.
"""

from __future__ import annotations

READER_QUESTIONS: tuple[str, ...] = (
    "Which exercises strengthen the gluteus maximus?",
    "How do weak glutes cause low back pain?",
    "What do fascial adhesions do?",
    "Which muscles are the deep hip rotators?",
    "Why does my lower back hurt when my glutes are weak?",
    "What is anterior pelvic tilt and why does it matter?",
    "How can I strengthen my hip rotators?",
    "Does foam rolling help with tight fascia?",
    "What is the piriformis?",
    "Can tight hip flexors cause back pain?",
    "What does the gluteus maximus do?",
    "How does fascia affect mobility?",
    "Can tight fascia irritate the sciatic nerve?",
    "What are monster walks good for?",
    "How do I stop my lower back from compensating?",
    "What is reciprocal inhibition?",
    "Why is my IT band so tight?",
    "What stretches help correct my pelvic position?",
    "How does core activation protect the spine?",
    "What is proprioception and how does fascia change it?",
    "Are clamshells good for weak hips?",
    "What causes hyperlordosis?",
    "How do dead bugs and planks help the back?",
    "What happens when the femur rotates inward too much?",
    "My butt is weak and my back aches, what should I do?",
    "Which muscles of the lower back get overused?",
    "What is myofascial release?",
    "What is the best diet for back pain?",
    "Should I run a marathon with knee pain?",
    "How do I fix my shoulder posture at the desk?",
)
