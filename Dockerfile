# syntax=docker/dockerfile:1.7
# OneStop gateway. Build: docker build -t onestop .   Run: see docker-compose.yml.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY modules ./modules
# A regular (non-editable) install: the runtime image needs no source tree for the code.
RUN pip install --upgrade pip && pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ONESTOP_ENV=prod \
    ONESTOP_HOST=0.0.0.0 \
    ONESTOP_PORT=8000 \
    ONESTOP_WORKERS=2 \
    ONESTOP_DATA_DIR=/var/lib/onestop \
    ONESTOP_SEEDS_DIR=/app/seeds
RUN groupadd --system --gid 10001 onestop \
 && useradd --system --uid 10001 --gid onestop --home-dir /app --shell /usr/sbin/nologin onestop \
 && mkdir -p /app /var/lib/onestop && chown onestop:onestop /var/lib/onestop
COPY --from=build /opt/venv /opt/venv
COPY --chown=onestop:onestop seeds /app/seeds
COPY --chown=onestop:onestop schema.graphql /app/schema.graphql
WORKDIR /app
USER onestop
EXPOSE 8000
# Liveness only; readiness (/readyz) is for the orchestrator's traffic decisions.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"ONESTOP_PORT\",\"8000\")}/healthz', timeout=2)"]
ENTRYPOINT ["onestop"]
CMD ["serve"]
