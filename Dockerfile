# segway-gateway: the gateway, its CLI and the simulated fleet, from the lock file.
# Build: docker build -t segway-gateway .   Run: see compose.yaml and docs/operations.md.

FROM python:3.11-slim-bookworm AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==0.13.8"
WORKDIR /src
# Dependencies first, from uv.lock alone: a change to the code reuses this layer.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra gateway --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev --extra gateway --no-editable

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/segway-gateway segway
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SEGWAY_GATEWAY_HOST=0.0.0.0 \
    SEGWAY_GATEWAY_PORT=8080
USER 10001
WORKDIR /var/lib/segway-gateway
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['SEGWAY_GATEWAY_PORT'] + '/healthz', timeout=2)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["segway-gateway"]
CMD ["serve"]
