#!/usr/bin/env bash
# Instructions per request of a server, counted by valgrind's callgrind: user-space instructions of the server
# process, garbage collection and compilation included (node --single-threaded runs them on the main thread).
# Unlike CPU time, the count does not move with whatever else the machine runs, so two builds can be compared
# to about 1 % where CPU-time A/B runs spread by 8 % (docs/benchmarks.md, finding 19).
#
# Usage (against a database seeded by `pnpm bench --users 10000 --only none --serve`, which prints the URL,
# DATABASE_URL, a static token and some ids):
#   DATABASE_URL=postgres://... bench/instructions.sh '/scim_v2/Users?filter=userName%20eq%20%22u000123@bench.example.com%22' roster_st_...
#   SERVER=bench/minimal-server.mjs DATABASE_URL=... bench/instructions.sh '/scim_v2/Users?filter=...' none
# Environment: SERVER (script to run, default the built gateway), PORT (default 41999), WARMUP (requests,
# default 10000: after 3,000 the count was still falling batch by batch), BATCHES (default 10), BATCH
# (requests per batch, default 1000).
# Prints the instructions per request of each batch, then the lowest and the median. A batch in which a major
# garbage collection ran counts 20-90 % more: compare the lowest batches of two builds, not single batches.
set -euo pipefail
cd "$(dirname "$0")/.."
path=${1:?usage: bench/instructions.sh PATH TOKEN}
token=${2:?usage: bench/instructions.sh PATH TOKEN}
server=${SERVER:-apps/scim-gateway/dist/main.js}
port=${PORT:-41999}
warmup=${WARMUP:-10000}
batches=${BATCHES:-10}
batch=${BATCH:-1000}
: "${DATABASE_URL:?set DATABASE_URL to the seeded database}"
command -v valgrind >/dev/null || { echo 'valgrind is not installed' >&2; exit 1; }
autocannon=node_modules/.bin/autocannon
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT

# The harness's gateway settings: warn-level logs, the rate limit lifted for one client sending flat out.
# HOST stays unset (the gateway binds 127.0.0.1 by default): valgrind names the pipe callgrind_control talks
# through after the HOST variable, and callgrind_control would look for another name.
unset HOST
PORT=$port LOG_LEVEL=warn ROSTER_RATE_LIMIT_PER_SECOND=1000000 ROSTER_RATE_LIMIT_BURST=1000000 \
  ROSTER_DB_POOL_MAX=10 ROSTER_ALLOW_INSECURE_ISSUERS=1 \
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$out/callgrind.%p" \
  node --single-threaded --max-old-space-size=1024 "$server" >"$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 1
done

load() {
  "$autocannon" --amount "$1" --connections 4 --json -H "authorization=Bearer $token" "http://127.0.0.1:$port$path" >"$out/load.json" 2>/dev/null
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (r.non2xx || r.errors) { console.error(`${r.non2xx} non-2xx answers, ${r.errors} errors`); process.exit(1); }' "$out/load.json"
}

load "$warmup"
counts=()
for i in $(seq 1 "$batches"); do
  callgrind_control -z "$pid" >/dev/null 2>&1
  load "$batch"
  callgrind_control -d "$pid" >/dev/null 2>&1
  dump=$(ls -t "$out"/callgrind."$pid".* | head -1)
  total=$(sed -n 's/^summary: //p' "$dump")
  counts+=($((total / batch)))
  echo "batch $i: $((total / batch)) instructions/request"
done
sorted=($(printf '%s\n' "${counts[@]}" | sort -n))
echo "lowest ${sorted[0]}, median ${sorted[$((batches / 2))]} instructions/request ($server, $path)"
