# Sourced by run.sh and run_tests.sh: make sure .venv exists and holds requirements.txt.
# Re-installs only when requirements.txt changed since the last install.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Nocturne needs Python 3.11 or newer (python3.11 not found)" >&2
  return 1
}

ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py="$(find_python)" || return 1
    echo "==> creating virtual environment in .venv ($("$py" --version))"
    "$py" -m venv "$VENV" || { echo "error: cannot create .venv (on Debian: apt-get install python3-venv)" >&2; return 1; }
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing Python dependencies (requirements.txt)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip &&
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/requirements.txt" || {
      echo "error: pip could not install requirements.txt (see the messages above)" >&2; return 1; }
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}
