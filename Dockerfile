# Lotsenbuch container image.
#
#   docker build -t lotsenbuch .
#   docker run -p 8000:8000 -v lotsenbuch-data:/data lotsenbuch
#
# The container migrates the database, then serves on port 8000. All state (the
# SQLite file, the secret key, VAPID keys) lives in the /data volume; set
# DATABASE_URL to use PostgreSQL instead of SQLite. BASE_IMAGE may be any image
# with python3 (>= 3.11, with the venv module) and useradd, e.g. a local Debian one.
ARG BASE_IMAGE=python:3.11-slim

# --- Stage 1: install the app and its dependencies into a virtual environment.
FROM ${BASE_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv

WORKDIR /src
COPY pyproject.toml README.md ./
COPY server/ server/
COPY sync/ sync/
COPY pwa/ pwa/
COPY migrations/ migrations/

# Non-editable: the package data in pwa/ and migrations/ is installed with it.
RUN /opt/venv/bin/pip install --no-cache-dir /src

# --- Stage 2: the runtime image, without the sources and build leftovers.
FROM ${BASE_IMAGE}

COPY --from=build /opt/venv /opt/venv

RUN groupadd --gid 10001 lotsenbuch \
    && useradd --uid 10001 --gid lotsenbuch --home-dir /data --no-create-home --shell /usr/sbin/nologin lotsenbuch \
    && mkdir -p /data \
    && chown lotsenbuch:lotsenbuch /data \
    && chmod 0750 /data

ENV LOTSENBUCH_DATA_DIR=/data \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1

VOLUME ["/data"]
EXPOSE 8000
USER lotsenbuch
WORKDIR /data

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# `serve` refuses to start on unapplied migrations, so apply them first.
CMD ["sh", "-c", "lotsenbuch migrate && exec lotsenbuch serve --host 0.0.0.0 --port 8000"]
