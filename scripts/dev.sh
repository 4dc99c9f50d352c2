#!/usr/bin/env bash
# Set up a fresh machine for jupyter-runtime-images and run it or test it.
#
#   scripts/dev.sh run     install everything needed, then start JupyterLab with the extension
#   scripts/dev.sh test    install everything needed (Python test deps and, as root, the Debian
#                          packages the tests use), then lint, type-check and run the whole suite
#   scripts/dev.sh bench   install, then run the benchmark scripts in benchmarks/
#
# Everything goes into a virtual environment at .venv (override with VENV=...), so the
# machine's own Python is never modified. The Elyra hand-off tests create (once) a separate
# venv at .venv-elyra/ with elyra-server 4.1.1; RUNTIME_IMAGES_ELYRA_TESTS=0 turns them off
# (docs/elyra.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
VENV="${VENV:-$here/.venv}"
PY="$VENV/bin/python"
# The frontend's package scripts call `jlpm` by name; it lives in the venv.
export PATH="$VENV/bin:$PATH"

# Debian packages the test-suite uses (real registries, image tools, a browser, and a real
# Debian base image made with debootstrap for the buildah engine's tests).
APT_PACKAGES=(git docker-registry skopeo umoci busybox-static apache2-utils chromium fonts-dejavu-core
  buildah debootstrap rpm qemu-user)

install_debian_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages (install them as root): ${missing[*]}" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_python() {
  local extras="$1"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e ".${extras}"
}

case "${1:-}" in
  run)
    install_python "[lab]"
    shift
    root_flag=()
    [ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)
    exec "$VENV/bin/jupyter" lab "${root_flag[@]}" "$@"
    ;;
  test)
    install_debian_packages
    install_python "[test]"
    shift
    "$VENV/bin/ruff" check runtime_images tests benchmarks
    "$VENV/bin/ruff" format --check runtime_images tests benchmarks
    "$VENV/bin/mypy"
    # The layers of DESIGN.md: no import cycles, nothing importing upwards (pyproject.toml).
    "$VENV/bin/lint-imports" --no-cache
    "$VENV/bin/jupyter" server extension list 2>&1 | grep -E "runtime_images.*OK"
    "$VENV/bin/jupyter" labextension list 2>&1 | grep -E "jupyter-runtime-images.*enabled.*OK"
    # The frontend: lint and unit tests (node_modules was installed by the build hook).
    (cd labextension && "$VENV/bin/jlpm" lint:check && "$VENV/bin/jlpm" test)
    # pytest exits 5 when it collected no test: that is a failure here too.
    "$VENV/bin/pytest" "$@"
    ;;
  bench)
    install_debian_packages
    install_python "[test]"
    shift
    for script in benchmarks/bench_*.py; do "$PY" "$script" "$@"; done
    ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
