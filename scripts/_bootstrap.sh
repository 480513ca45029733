# Shared by scripts/run and scripts/test (sourced): system packages, Python, uv and the locked virtualenv.
# Usage: bootstrap <apt packages...>
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

install_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  local root candidate
  root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
  if [ -x "$root/versions/3.13.0/bin/python" ]; then echo "$root/versions/3.13.0/bin/python"; return; fi
  candidate="$(ls -d "$root"/versions/3.1[1-9]* 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$candidate" ] && [ -x "$candidate/bin/python" ]; then echo "$candidate/bin/python"; return; fi
  command -v python3
}

bootstrap() {
  install_apt_packages "$@"
  PYTHON="$(find_python)"
  export UV_PYTHON="$PYTHON" UV_PYTHON_DOWNLOADS=never
  if ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
    log "Installing uv into $PYTHON"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
  fi
  UV=("$PYTHON" -m uv)
  log "Syncing the virtualenv from uv.lock ($("$PYTHON" --version))"
  "${UV[@]}" sync --locked --quiet
  export PATH="$ROOT/.venv/bin:$PATH"
  # The German catalog is source (locale/de/LC_MESSAGES/django.po); its compiled .mo is built, never committed.
  (cd "$ROOT" && python manage.py compilemessages --ignore=.venv --verbosity 0)
}

# WeasyPrint's libraries and fonts; the app needs them at run time, the tests too.
RUNTIME_APT_PACKAGES=(gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2)
# PDF checks and the browser for end-to-end tests.
TEST_APT_PACKAGES=(poppler-utils chromium)
