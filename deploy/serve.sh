#!/usr/bin/env bash
# Serve the portal as in production on this machine: one gunicorn server per PORT given, each with its
# timer worker (`flask portal worker`), all on the database of PORTAL_DATABASE_URL and the same upload
# and print folders. A reverse proxy (docs/deploy.md) spreads the requests over the ports.
#
#   PORTAL_SECRET_KEY=… PORTAL_DATABASE_URL=postgresql+psycopg://portal@db/portal deploy/serve.sh 8001 8002
#
# PORTAL_WEB_WORKERS   gunicorn processes per server (default 2)
# PORTAL_BIND_HOST     address the servers listen on (default 127.0.0.1: only the proxy on this machine)
# PORTAL_WORKER_INTERVAL  seconds between the timer worker's rounds (default 10)
# GUNICORN_CMD_ARGS    further gunicorn options (e.g. "--forwarded-allow-ips=10.0.0.5" for a proxy elsewhere)
#
# TERM or Ctrl-C stops every process; if any one of them ends, the others are stopped too and the
# script exits non-zero, so that the service manager running it (systemd) starts it again.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 PORT [PORT …]" >&2
    exit 2
fi
: "${PORTAL_DATABASE_URL:?PORTAL_DATABASE_URL must name the database every server shares}"
: "${PORTAL_SECRET_KEY:?PORTAL_SECRET_KEY must be set, the same for every server}"
export PORTAL_ENV=production FLASK_APP='portal:create_app()'

cd "$(dirname "$0")/.."
bin=.venv/bin
[ -x "$bin/gunicorn" ] || bin=$(dirname "$(command -v gunicorn)")

pids=()
stop() {
    trap - TERM INT EXIT
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 0' TERM INT
trap stop EXIT

for port in "$@"; do
    "$bin/gunicorn" --workers "${PORTAL_WEB_WORKERS:-2}" --bind "${PORTAL_BIND_HOST:-127.0.0.1}:$port" \
        --timeout 120 --no-control-socket --access-logfile - 'portal:create_app()' &
    pids+=($!)
    "$bin/flask" portal worker --interval "${PORTAL_WORKER_INTERVAL:-10}" &
    pids+=($!)
done
echo "serving on port(s) $* (${#pids[@]} processes: a gunicorn server and a timer worker each)"
wait -n "${pids[@]}" || true
echo "a process of the portal ended; stopping the others" >&2
exit 1
