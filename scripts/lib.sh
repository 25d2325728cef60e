# Shared by the entry scripts: system packages, the virtualenv and local services.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# apt_ensure PACKAGE... : install what is missing (as root), or say what to install.
apt_ensure() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

venv_ensure() {
  if [ ! -x "$PY" ]; then
    say "creating .venv"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.ssops-installed"
  local want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing SSOps into .venv (pip install -e '.[dev]')"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -e "$ROOT[dev]"
    echo "$want" > "$stamp"
  fi
}

# oidc_provider_ensure: the test identity provider's Node.js packages (scripts/oidc-provider),
# installed with `npm ci` from the committed lock file whenever that file changes.
oidc_provider_ensure() {
  local dir="$ROOT/scripts/oidc-provider"
  local stamp="$dir/node_modules/.ssops-installed"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing the test identity provider (npm ci in scripts/oidc-provider)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
}

redis_ensure() {  # redis_ensure PORT
  local port="$1"
  if redis-cli -p "$port" ping >/dev/null 2>&1; then return 0; fi
  say "starting Redis on 127.0.0.1:$port"
  mkdir -p "$ROOT/var/redis-$port"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$ROOT/var/redis-$port" --logfile "$ROOT/var/redis-$port/redis.log"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "Redis did not start on port $port (see var/redis-$port/redis.log)" >&2
  return 1
}

# postgres_ensure: a running Debian cluster and a superuser role ssops/ssops for the tests.
postgres_ensure() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL is not running on 127.0.0.1:5432; start it (sudo pg_ctlcluster <version> main start)" >&2
      return 1
    fi
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
    say "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start
    for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.1; done
  fi
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='ssops'" | grep -q 1 ||
      runuser -u postgres -- psql -qc "CREATE ROLE ssops LOGIN SUPERUSER PASSWORD 'ssops'"
    runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='ssops'" | grep -q 1 ||
      runuser -u postgres -- createdb -O ssops ssops
  fi
}
