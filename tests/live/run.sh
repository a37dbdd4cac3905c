#!/usr/bin/env bash
# Live tests against a real `quire serve` over the demo handbook, with API
# tokens on: the official MCP Python SDK as the client (both protocol eras),
# and schemathesis fuzzing the API from its own OpenAPI document (no 5xx,
# every answer in the schema). Needs: target/debug/quire (cargo build) and
# the tools in tests/live/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

QUIRE=${QUIRE_BIN:-target/debug/quire}
TOKEN=live-test-token-0123456789
WORK=$(mktemp -d)
LOG="$WORK/quire.log"
cleanup() {
  if [[ -n "${PID:-}" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cp -r content "$WORK/content"
cat > "$WORK/quire.toml" <<TOML
content = "content"
themes = "$PWD/themes"
data = "data"
bind = "127.0.0.1:0"
[api]
tokens = ["$TOKEN"]
TOML

"$QUIRE" --config "$WORK/quire.toml" serve >"$LOG" 2>&1 &
PID=$!

# The address is in the log once the socket is bound; then wait for ready.
BASE=""
for _ in $(seq 1 600); do
  BASE=$(grep -o 'on http://[0-9.:]*' "$LOG" | head -1 | sed 's/^on //' || true)
  [[ -n "$BASE" ]] && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.1
done
[[ -n "$BASE" ]] || { echo "quire did not start"; cat "$LOG"; exit 1; }
for _ in $(seq 1 600); do
  curl -sf "$BASE/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "$BASE/healthz" >/dev/null || { echo "quire never became ready"; cat "$LOG"; exit 1; }
echo "quire at $BASE"

echo "== MCP with the official Python SDK"
python3 tests/live/mcp_client.py "$BASE" "$TOKEN"

echo "== API fuzzing with schemathesis"
schemathesis run "$BASE/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples 100 --workers 2 --seed 1
