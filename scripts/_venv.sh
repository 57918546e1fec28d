# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: make sure .venv exists and holds the
# project with its dev dependencies. Installs only when pyproject.toml (or the
# Python interpreter) changed since the last install, or a dependency is missing,
# so the common case costs a fraction of a second.

ensure_venv() {
    local python="${PYTHON:-python3}"
    local stamp=.venv/.closeloop-installed
    local lock=.venv/.closeloop-install.lock

    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "" 2>/dev/null; then
        echo "==> Creating .venv with $("$python" --version 2>&1)"
        "$python" -m venv --clear .venv
    fi

    # One installer at a time (scripts/run and scripts/test may start together).
    exec 9>"$lock"
    flock 9

    local want
    want="$({ sha256sum pyproject.toml; .venv/bin/python -VV; } | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && _deps_present; then
        exec 9>&-
        return 0
    fi

    echo "==> Installing Closeloop and its dependencies into .venv (pip install -e \".[dev]\")"
    rm -f "$stamp"
    # The output is kept in a log and shown only if pip fails.
    local log=.venv/pip-install.log
    if ! .venv/bin/python -m pip install --disable-pip-version-check -e ".[dev]" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "pip install failed; the full output is in $log" >&2
        return 1
    fi
    echo "$want" >"$stamp"
    exec 9>&-
}

# True when the editable install and every requirement it declares (with the dev
# extra) are installed. Versions are left to pip: the stamp covers pyproject edits.
_deps_present() {
    .venv/bin/python - <<'PY' 2>/dev/null
import re
import sys
from importlib import metadata

try:
    requires = metadata.requires("closeloop") or []
except metadata.PackageNotFoundError:
    sys.exit(1)
for req in requires:
    if ";" in req and "extra ==" in req and '"dev"' not in req and "'dev'" not in req:
        continue
    name = re.match(r"[A-Za-z0-9._-]+", req).group(0)
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
}
