"""``python -m eval bench``: every cost of the assistant against its floor or baseline.

One entry, ``main`` (in ``command``); one module per figure:

- ``queries``   warm ``Assistant.ask`` against its floor (embed + one k-NN), and baselines
- ``indexing``  ingest's passages per second against the raw encode rate; the unchanged re-run
- ``scale``     the assistant's retriever over 1k, 10k and 100k synthetic passages
- ``start``     ``python app.py`` to its first answered ``/api/ask``; ``import app``
- ``profiles``  pyinstrument profiles instead of timings (``--profile DIR``)
- ``report``    the targets and the Markdown table
- ``timing``, ``questions``, ``app_process``: what the others share (``app_process`` is also
  how the tests start the app)
"""

from eval.bench.command import main

__all__ = ["main"]
