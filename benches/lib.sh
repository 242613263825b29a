# Shared by the bench scripts (source it): the target directory, the pyHanko venv, wrk,
# and a release `zhengzhao serve` on a fresh data directory.

# The cargo target directory (CARGO_TARGET_DIR honoured).
bench_target_dir() {
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        echo "$CARGO_TARGET_DIR"
    else
        cargo metadata --format-version 1 --no-deps |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
    fi
}

# A venv with pyHanko under the target directory, created once; prints its path.
pyhanko_venv() {
    local venv="$1/pyhanko-venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== creating $venv (pip install pyhanko pyhanko-cli)" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check pyhanko pyhanko-cli >&2
    fi
    echo "$venv"
}

ensure_wrk() {
    command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
}

# Builds the release binary and starts `serve` on a fresh data directory on a free
# loopback port, with the environment given as arguments (NAME=VALUE …). Sets bin, work,
# port, server (its pid) and seal (the first demo seal); stops it and removes the
# directory on exit.
start_fresh_server() {
    cargo build --release --quiet --bin zhengzhao
    bin="${CARGO_TARGET_DIR:-target}/release/zhengzhao"
    work=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
    env "$@" "$bin" --data "$work/data" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
    seal=$(grep -m1 "demo seal:" "$work/serve.log" | awk '{print $3}')
}
