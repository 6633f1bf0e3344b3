# One image for web, workers and beat. The GPU worker needs the NVIDIA container runtime;
# torch's CUDA build is what pip installs on x86_64.
FROM python:3.11-slim-bookworm

# Static files stay in the image, out of the var folder: compose mounts a volume over that,
# and Docker copies an image's files into a volume only when the volume is new, so a later
# release's collectstatic would never be seen.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GLITCHLAB_VAR_DIR=/var/lib/glitchlab GLITCHLAB_STATIC_ROOT=/app/staticfiles
WORKDIR /app

COPY pyproject.toml constraints.txt ./
COPY ml ml
COPY webapp webapp
COPY tasks tasks
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
# Which code this is (the image holds no .git): the exports' about.json says it.
ARG GLITCHLAB_SOURCE_VERSION=""
ENV GLITCHLAB_SOURCE_VERSION=$GLITCHLAB_SOURCE_VERSION
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput

EXPOSE 8000
# granian; workers, threads and bind come from webapp/serve.py. (A comment after an
# exec-form CMD makes the line invalid JSON, and docker then runs it through /bin/sh.)
CMD ["python", "-m", "webapp.serve"]
