# One image for web, workers and beat. The GPU worker needs the NVIDIA container runtime;
# torch's CUDA build is what pip installs on x86_64.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GLITCHLAB_VAR_DIR=/var/lib/glitchlab
WORKDIR /app

COPY pyproject.toml constraints.txt ./
COPY ml ml
COPY webapp webapp
COPY tasks tasks
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
RUN DEBUG=false SECRET_KEY=build-only python manage.py collectstatic --noinput

EXPOSE 8000
# granian; workers, threads and bind come from webapp/serve.py. (A comment after an
# exec-form CMD makes the line invalid JSON, and docker then runs it through /bin/sh.)
CMD ["python", "-m", "webapp.serve"]
