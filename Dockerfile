# syntax=docker/dockerfile:1.7
# OneStop gateway. Build: docker build -t onestop .   Run: see docker-compose.yml, deploy/k8s/.
#
# Reproducible: the base image is pinned by digest, and the image installs exactly the lock
# files (requirements/*.txt, `make lock`), every package by version and hash, nothing
# resolved at build time. The runtime environment gets requirements/prod.txt and the
# project's own wheel, both with --no-deps: no dev tools, no test-only packages, no
# embedded database (the `embedded` extra), no pip. tests/deploy/test_image.py checks this.
#
# The digest is the multi-platform index of python:3.11-slim-bookworm (Python 3.11.16) as
# published in September 2026; it was not read from the registry on the machine that wrote
# this file (no registry there), but taken from Docker Official Images records. Refresh it
# (and after a security release of the base) with:
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# and copy the "Digest:" line into both FROM lines.

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The build backend from its own lock, then the wheel built without build isolation (which
# would fetch an unpinned setuptools).
COPY requirements/build.txt requirements/prod.txt ./requirements/
RUN pip install --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY modules ./modules
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .
# A virtualenv without pip: the runtime image cannot install anything.
RUN python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --require-hashes --no-deps \
      -r requirements/prod.txt \
 && pip --python /opt/venv/bin/python install --no-deps /wheels/onestop-*.whl

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS runtime
# The source revision, shown by onestop_build_info: docker build --build-arg REVISION=$(git rev-parse HEAD)
ARG REVISION=unknown
ENV PATH=/opt/venv/bin:$PATH \
    ONESTOP_REVISION=$REVISION \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ONESTOP_ENV=prod \
    ONESTOP_HOST=0.0.0.0 \
    ONESTOP_PORT=8000 \
    ONESTOP_METRICS_HOST=0.0.0.0 \
    ONESTOP_METRICS_PORT=9464 \
    ONESTOP_WORKERS=2 \
    ONESTOP_SEED_HISTORY=false \
    ONESTOP_DATA_DIR=/var/lib/onestop \
    ONESTOP_SEEDS_DIR=/app/seeds
RUN groupadd --system --gid 10001 onestop \
 && useradd --system --uid 10001 --gid onestop --home-dir /app --shell /usr/sbin/nologin onestop \
 && mkdir -p /app /var/lib/onestop && chown onestop:onestop /var/lib/onestop
COPY --from=build /opt/venv /opt/venv
COPY --chown=onestop:onestop seeds /app/seeds
COPY --chown=onestop:onestop schema.graphql /app/schema.graphql
WORKDIR /app
USER 10001:10001
# 8000: the API (public). 9464: /metrics (internal: scraped by Prometheus, never exposed to
# the outside; deploy/k8s/networkpolicy.yaml lets only the monitoring namespace reach it).
EXPOSE 8000 9464
# Liveness only; readiness (/readyz) is for the orchestrator's traffic decisions.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"ONESTOP_PORT\",\"8000\")}/healthz', timeout=2)"]
ENTRYPOINT ["onestop"]
CMD ["serve"]
