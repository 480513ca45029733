# MLS application image: one image for web (gunicorn), worker and beat (celery) and the migrate one-shot.
# Build: docker compose build   (see docker-compose.yml for how the services run it)
FROM python:3.13-slim-bookworm

ARG UV_VERSION=0.13.8

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:${PATH}"

# WeasyPrint's native libraries and the fonts the PDF reports are rendered with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gettext \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, from the lock file only, so code changes don't reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

COPY . .
RUN uv sync --locked --no-dev

# Whitenoise serves static files with manifest storage when DEBUG is off, so the manifest is built here.
# The SECRET_KEY below exists only for this build step; the running containers must be given their own.
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key python manage.py collectstatic --noinput \
    && DEBUG=false SECRET_KEY=build-only-collectstatic-key python manage.py compilemessages --ignore=.venv \
    && mkdir -p /app/media \
    && chown app:app /app/media

USER app

EXPOSE 8000

CMD ["gunicorn", "mls.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
