# ./run demo — the whole loop on one machine with embedded defaults (SQLite, filesystem broker):
# a real Prometheus with 30 days of backfilled history, a real Alertmanager, simulated demo
# services with a live outage that pages, a Celery worker and beat, gunicorn, demo traffic.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

WEB_PORT="${SSOPS_DEMO_WEB_PORT:-8000}"
PROM_PORT="${SSOPS_DEMO_PROMETHEUS_PORT:-9090}"
AM_PORT="${SSOPS_DEMO_ALERTMANAGER_PORT:-9093}"
SERVICES_PORT="${SSOPS_DEMO_SERVICES_PORT:-9101}"
export SSOPS_VAR_DIR="${SSOPS_VAR_DIR:-$ROOT/var}"
DEMO="$SSOPS_VAR_DIR/demo"
LOGS="$SSOPS_VAR_DIR/log"

apt_ensure prometheus prometheus-alertmanager
venv_ensure
started_at=$(date +%s)

export DJANGO_SECURE_SSL="${DJANGO_SECURE_SSL:-0}"   # plain http on 127.0.0.1
export OTEL_TRACES_EXPORTER="${OTEL_TRACES_EXPORTER:-db}"
export PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT"
export ALERTMANAGER_URL="http://127.0.0.1:$AM_PORT"
export SSOPS_BASE_URL="${SSOPS_BASE_URL:-http://127.0.0.1:$WEB_PORT}"
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}"
export PROMETHEUS_MULTIPROC_DIR="$SSOPS_VAR_DIR/prometheus-multiproc"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" "$DEMO/prometheus" "$DEMO/alertmanager"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "$DEMO/prometheus" "$DEMO/alertmanager" "$LOGS"

pids=()
stop() {
  trap - EXIT INT TERM
  say "stopping the demo"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
background() {  # background LOGNAME COMMAND...
  local log="$LOGS/$1.log"; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
}
wait_for() {  # wait_for URL SECONDS WHAT
  "$PY" - "$1" "$2" "$3" <<'PY'
import sys, time, urllib.request
url, seconds, what = sys.argv[1], float(sys.argv[2]), sys.argv[3]
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        time.sleep(0.3)
sys.exit(f"{what} did not come up at {url} within {seconds:.0f} s (see var/log/)")
PY
}

say "migrating the demo database ($SSOPS_VAR_DIR/ssops.sqlite3)"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0

say "writing 30 days of demo-service history and backfilling Prometheus"
now=$(date +%s)
"$PY" manage.py demo_history --out "$DEMO/history.om" --now "$now" \
  --labels "job=\"demo-services\",instance=\"127.0.0.1:$SERVICES_PORT\""
promtool tsdb create-blocks-from openmetrics "$DEMO/history.om" "$DEMO/prometheus" >"$LOGS/backfill.log"
cat >"$DEMO/prometheus.yml" <<YAML
global: {scrape_interval: 15s, evaluation_interval: 30s}
scrape_configs:
  - job_name: ssops
    static_configs: [{targets: ["127.0.0.1:$WEB_PORT"]}]
  - job_name: demo-services
    static_configs: [{targets: ["127.0.0.1:$SERVICES_PORT"]}]
YAML
cp scripts/demo-alertmanager.yml "$DEMO/alertmanager.yml"  # routes each alert to its team

say "starting Prometheus on 127.0.0.1:$PROM_PORT and Alertmanager on 127.0.0.1:$AM_PORT"
background demo-services "$PY" manage.py demo_services --port "$SERVICES_PORT" --now "$now" \
  --outage-after "${SSOPS_DEMO_OUTAGE_AFTER:-60}"
background prometheus prometheus --config.file="$DEMO/prometheus.yml" \
  --storage.tsdb.path="$DEMO/prometheus" --storage.tsdb.retention.time=3650d \
  --web.listen-address="127.0.0.1:$PROM_PORT"
background alertmanager prometheus-alertmanager --config.file="$DEMO/alertmanager.yml" \
  --storage.path="$DEMO/alertmanager" --web.listen-address="127.0.0.1:$AM_PORT" \
  --cluster.listen-address=""
wait_for "$PROMETHEUS_URL/-/ready" 60 Prometheus
wait_for "$ALERTMANAGER_URL/-/ready" 60 Alertmanager

say "seeding the demo (teams, users, templates, policies, SLOs) and a week of SLO history"
"$PY" manage.py seed_demo
"$PY" manage.py demo_slo_history --days 7 --every 3600

say "starting the Celery worker and beat (embedded broker) and the web UI (gunicorn)"
background celery "$VENV/bin/celery" -A ssops_site worker -B --concurrency 2 --loglevel INFO \
  --schedule "$SSOPS_VAR_DIR/celerybeat-schedule"
background web "$VENV/bin/gunicorn" ssops_site.wsgi -b "127.0.0.1:$WEB_PORT" -w 2 \
  --access-logfile - --timeout 60
wait_for "http://127.0.0.1:$WEB_PORT/healthz" 60 "the web UI"
background traffic "$PY" manage.py demo_traffic --url "http://127.0.0.1:$WEB_PORT" \
  --interval "${SSOPS_DEMO_TRAFFIC_INTERVAL:-20}"

cat <<INFO

  SSOps is up in $(( $(date +%s) - started_at )) s:  http://127.0.0.1:$WEB_PORT/
  Logins (password "demo"): dev (developer), approver, oncall, exec (executive), admin
  Dashboards:   /dashboards/executive/   /dashboards/oncall/   SLOs: /slos/   API: /api/docs/
  Prometheus:   $PROMETHEUS_URL    Alertmanager: $ALERTMANAGER_URL
  In about three minutes a checkout outage makes its SLO page on-call (watch /dashboards/oncall/).
  Demo traffic: dev files requests and approver decides every ~20 s (var/log/traffic.log).
  Logs in $LOGS/.  Stop with Ctrl-C.

INFO
wait -n "${pids[@]}"
