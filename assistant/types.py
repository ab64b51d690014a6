"""The nouns of an answer: passages retrieved, citations made, the Answer returned.

They live with the rest of the shared contract in ``ingest/types.py``; this module keeps
``from assistant.types import Answer`` working.
"""

from __future__ import annotations

from ingest.types import Answer as Answer
from ingest.types import Citation as Citation
from ingest.types import Kind as Kind
from ingest.types import Passage as Passage
from ingest.types import Turn as Turn
