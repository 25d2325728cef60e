# ./run demo — SSOps on this machine with embedded defaults (SQLite, filesystem broker).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

venv_ensure
export DJANGO_SECURE_SSL="${DJANGO_SECURE_SSL:-0}"   # plain http on 127.0.0.1
export OTEL_TRACES_EXPORTER="${OTEL_TRACES_EXPORTER:-db}"
export PROMETHEUS_MULTIPROC_DIR="$ROOT/var/prometheus-multiproc"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "$ROOT/var/log"

say "migrating and seeding the demo database (var/ssops.sqlite3)"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py seed_demo

pids=()
stop() {
  say "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

say "starting the Celery worker and beat (embedded broker)"
"$VENV/bin/celery" -A ssops_site worker -B --concurrency 2 --loglevel INFO \
  --schedule "$ROOT/var/celerybeat-schedule" >"$ROOT/var/log/celery.log" 2>&1 &
pids+=($!)

say "serving on http://127.0.0.1:8000 (gunicorn, 2 workers)"
"$VENV/bin/gunicorn" ssops_site.wsgi -b 127.0.0.1:8000 -w 2 --access-logfile - \
  >"$ROOT/var/log/web.log" 2>&1 &
pids+=($!)

for _ in $(seq 100); do curl -fs http://127.0.0.1:8000/healthz >/dev/null 2>&1 && break; sleep 0.2; done
cat <<INFO

  SSOps is up:  http://127.0.0.1:8000/        (logs in var/log/)
  Logins (password "demo"): dev (developer), approver, oncall, exec (executive), admin
  API docs:     http://127.0.0.1:8000/api/docs/
  Stop:         Ctrl-C

INFO
wait -n "${pids[@]}"
