# ./run test — the whole suite, on SQLite and again on PostgreSQL, against real services.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

apt_ensure redis-server postgresql prometheus prometheus-alertmanager chromium fonts-dejavu-core \
  nodejs
# Debian's nodejs comes without npm (its own package); NodeSource's carries npm and conflicts
# with Debian's, so npm is installed only when the command is missing.
command -v npm >/dev/null || apt_ensure npm
venv_ensure
oidc_provider_ensure
redis_ensure 6379
postgres_ensure

export SSOPS_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
export SSOPS_TEST_POSTGRES_URL="postgresql://ssops:ssops@127.0.0.1:5432/ssops"

"$VENV/bin/ruff" check . >/dev/null || { "$VENV/bin/ruff" check .; exit 1; }
say "dependency audit"
"$VENV/bin/python" scripts/dep_audit.py

run_pytest() {  # pytest's exit 5 (no tests collected) is a failure of this command, said plainly
  local status=0
  "$VENV/bin/pytest" -p no:cacheprovider --durations=20 "$@" || status=$?
  if [ "$status" -eq 5 ]; then echo "pytest collected no tests" >&2; return 1; fi
  return "$status"
}

say "test suite on SQLite"
(unset DATABASE_URL; run_pytest "$@")
say "test suite on PostgreSQL"
DATABASE_URL="$SSOPS_TEST_POSTGRES_URL" run_pytest "$@"
