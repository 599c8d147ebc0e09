# Sourced by scripts/start and scripts/test: make .venv with Python 3.11+ and install
# $MONITOR_INSTALL (".", or ".[test]") into it, as the user who runs this (no root needed:
# everything is written inside the checkout, which that user must own).
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "monitor needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)" >&2
    exit 2
fi
# pip writes .venv and monitor.egg-info here: files left by another user (root, say) would
# make it fail half-way with a traceback, so say so first; and root installing into another
# user's checkout would leave just such files behind.
owner=$(ls -ldn . | awk '{print $3}')
if [ "$(id -u)" -eq 0 ] && [ "$owner" -ne 0 ]; then
    name=$(ls -ld . | awk '{print $3}')
    echo "$(pwd) belongs to $name: install as that user (sudo -u $name $0 …), not as root," \
        "so that no file in .venv belongs to root" >&2
    exit 2
fi
for path in . .venv .venv/bin .venv/lib monitor.egg-info; do
    if [ -e "$path" ] && [ ! -w "$path" ]; then
        echo "$(pwd)/$path belongs to $(ls -ld "$path" | awk '{print $3}')," \
            "not to $(id -un) who installs: give the checkout to one user (chown -R)," \
            "or remove .venv and monitor.egg-info" >&2
        exit 2
    fi
done
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$MONITOR_INSTALL"
