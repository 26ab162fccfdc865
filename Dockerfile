# One image for all three gridloop services (intake, dispatch, ledger).
# The service and its command are chosen at run time, e.g. in docker-compose.yml:
#   python -m services.intake serve
#   python -m services.dispatch serve | consume | load-demo
#   python -m services.ledger serve | consume
# The image alone runs intake (the default command); `docker compose up --build` runs the stack.
# The API and consumer roles of dispatch and ledger both run `serve`, told apart by
# DISPATCH_/LEDGER_RUN_CONSUMER, so that every process has /metrics, /healthz and /readyz.

# ---------------------------------------------------------------------------- build stage
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, so that code changes do not invalidate this layer. Every distribution is
# checked against the hashes in the lock; setuptools (the build backend) comes from the lock too.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The project itself, without touching the locked dependencies (README.md is its long
# description, named in pyproject.toml).
COPY pyproject.toml README.md ./
COPY services ./services
RUN pip install --no-deps --no-build-isolation .

# ---------------------------------------------------------------------------- runtime stage
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INTAKE_HOST=0.0.0.0 \
    DISPATCH_HOST=0.0.0.0 \
    LEDGER_HOST=0.0.0.0

RUN groupadd --system --gid 10001 gridloop \
    && useradd --system --uid 10001 --gid gridloop --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin gridloop \
    && mkdir /keys && chown 10001:10001 /keys

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
USER 10001:10001

# intake, dispatch, ledger (their settings' default ports)
EXPOSE 8001 8002 8003

# No HEALTHCHECK here: which port to probe depends on the service the container runs, so each
# compose service declares its own check against /readyz.
CMD ["python", "-m", "services.intake", "serve"]
