# ./run bench [NAME...] — every benchmark with --quick: var/bench/report.json and a table.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

apt_ensure redis-server postgresql prometheus
venv_ensure
redis_ensure 6379
postgres_ensure

exec "$PY" bench/report.py "$@"
