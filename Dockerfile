# flowrag API server image (CPU, no torch: ~1.1 GB of Python packages). Build: docker build -t flowrag .
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 FLOWRAG_DATA_DIR=/data \
    FLOWRAG_API__HOST=0.0.0.0 FLOWRAG_API__PORT=8000
RUN apt-get update && apt-get install -y --no-install-recommends git curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY flowrag ./flowrag
RUN pip install --upgrade pip && pip install . \
    && useradd --create-home --uid 10001 flowrag && mkdir -p /data && chown flowrag /data
# not root: the server needs no privilege (the model is built once into the user's cache)
USER flowrag
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["flowrag", "serve"]
