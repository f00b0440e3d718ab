#!/usr/bin/env bash
# bench/postgres.sh: redirects through one darkshare instance on a bbolt
# file, one on PostgreSQL, two on the same PostgreSQL database, and a bare
# Fiber app, in rotating order in one run, so that their ratios share the
# run's noise. Every server is pinned to the same core (SERVER_CPU): two
# instances get one core's CPU between them, so their figure is what a
# second instance costs, not what a second machine adds (this machine has
# no spare core to show that). Two wrk processes on WRK_CPU split the
# connections: both at the one server, or one at each of the two
# instances. At the end it checks that the clicks the PostgreSQL instances
# counted add up to the 302s wrk received from them.
# Run from the repo root: DB=postgres://… bash bench/postgres.sh
#
# Settings (environment):
#   DB         a postgres:// URL of an empty database (required)
#   DURATION   each wrk run (default 5s)
#   ROUNDS     rounds of the four setups, in rotating order (default 8)
#   CONNS      wrk connections in all, split over two wrk (default 64)
#   LINKS      links seeded and clicked at random (default 1000)
#   SERVER_CPU, WRK_CPU   cores (default 0 and 1)
set -euo pipefail

DB=${DB:?set DB to the postgres:// URL of an empty database}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-8}
CONNS=${CONNS:-64}
LINKS=${LINKS:-1000}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
PORT_A=8280 PORT_B=8281 PORT_BARE=8282 PORT_BOLT=8283
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

die() { echo "postgres.sh: $*" >&2; exit 1; }
cd "$(dirname "$0")/.."
for tool in go wrk curl taskset awk; do command -v "$tool" >/dev/null || die "$tool is not installed"; done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/darkshare-pg.XXXXXX")
declare -A PID=()
stop() { # NAME...: SIGTERM (darkshare flushes its counts), then wait
	local name
	for name in "$@"; do kill -TERM "${PID[$name]}" 2>/dev/null || true; done
	for name in "$@"; do wait "${PID[$name]}" 2>/dev/null || true; unset "PID[$name]"; done
}
cleanup() {
	stop "${!PID[@]}"
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "# darkshare on bbolt and on PostgreSQL, one and two instances"
echo
echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo); $(go version | awk '{print $3}')"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- settings: DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS (two wrk of $((CONNS / 2))) LINKS=$LINKS; servers on core $SERVER_CPU, wrk on core $WRK_CPU"
echo

go build -o "$TMP/darkshare" ./cmd/darkshare
go build -o "$TMP/bare" ./bench/bare

wait_up() { # URL
	for _ in $(seq 100); do curl -fso /dev/null "$1" && return 0; sleep 0.1; done
	die "$1 did not answer within 10 s"
}
start_instance() { # NAME PORT DB
	DARKSHARE_ADMIN_TOKEN=$TOKEN taskset -c "$SERVER_CPU" "$TMP/darkshare" serve --listen "127.0.0.1:$2" \
		--db "$3" --flush-interval 1s --allow-host news.example.org >>"$TMP/$1.log" 2>&1 &
	PID[$1]=$!
	wait_up "http://127.0.0.1:$2/healthz"
}
start_instance a $PORT_A "$DB"
start_instance b $PORT_B "$DB"
start_instance bolt $PORT_BOLT "$TMP/d.db"
taskset -c "$SERVER_CPU" "$TMP/bare" --listen "127.0.0.1:$PORT_BARE" >"$TMP/bare.log" 2>&1 &
PID[bare]=$!
wait_up "http://127.0.0.1:$PORT_BARE/ready"

seed() { # PORT CODES: one admin mint per URL, through one keep-alive curl
	local i
	for i in $(seq "$LINKS"); do
		printf 'url = "http://127.0.0.1:%d/api/v1/links"\n' "$1"
		printf 'header = "Authorization: Bearer %s"\n' "$TOKEN"
		printf 'header = "Content-Type: application/json"\n'
		printf 'data = "{\\"url\\":\\"https://news.example.org/story?id=%d\\",\\"channels\\":[\\"email\\"]}"\n' "$i"
		printf 'write-out = "\\n"\n'
		((i < LINKS)) && echo next
	done >"$TMP/mint.curl"
	curl -sS -K "$TMP/mint.curl" | grep -o '"code":"[^"]*"' | cut -d'"' -f4 >"$2" || true
	(($(wc -l <"$2") == LINKS)) || die "seeding through port $1 gave $(wc -l <"$2") codes of $LINKS"
}
echo "seeding $LINKS links through PostgreSQL instance A and through the bbolt one ..." >&2
seed $PORT_A "$TMP/codes.pg"
seed $PORT_BOLT "$TMP/codes.bolt"
sleep 2.5 # B learns of A's links at its next poll (every second)

for list in pg bolt; do
	cat >"$TMP/$list.lua" <<LUA
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Referer"] = "https://mail.google.com/"
local reqs = {}
for code in io.lines("$TMP/codes.$list") do reqs[#reqs + 1] = wrk.format("GET", "/" .. code) end
math.randomseed(os.time())
request = function() return reqs[math.random(#reqs)] end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.6f %d\n", summary.requests, summary.duration / 1e6,
    e.status + e.connect + e.read + e.write + e.timeout))
end
LUA
done

# pair PORT1 PORT2 LIST: two wrk at once, CONNS/2 connections each;
# prints "req/s responses errors" summed over both.
pair() {
	local half=$((CONNS / 2))
	taskset -c "$WRK_CPU" wrk -t1 -c$half -d"$DURATION" -s "$TMP/$3.lua" "http://127.0.0.1:$1/" >"$TMP/w1" 2>&1 &
	local w1=$!
	taskset -c "$WRK_CPU" wrk -t1 -c$half -d"$DURATION" -s "$TMP/$3.lua" "http://127.0.0.1:$2/" >"$TMP/w2" 2>&1
	wait $w1
	awk '/^RESULT/ { n += $2; s += $2 / $3; e += $4 } END { printf "%.0f %d %d\n", s, n, e }' "$TMP/w1" "$TMP/w2"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
med() { printf '%s\n' "$@" | median; }

SENT=0 ERRS=0
bolt_r=() one_r=() two_r=() pg_bolt=() two_one=()
echo "| round | order | bare req/s | bbolt | PostgreSQL, one | PostgreSQL, two | bbolt/bare | one/bare | two/bare | one/bbolt | two/one |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
setups=(bare bolt one two)
for r in $(seq "$ROUNDS"); do
	# rotate the order each round, and reverse it every other round
	order=("${setups[@]:$((r % 4))}" "${setups[@]:0:$((r % 4))}")
	((r % 2)) || order=("${order[3]}" "${order[2]}" "${order[1]}" "${order[0]}")
	for who in "${order[@]}"; do
		case $who in
		bare) read -r b _ e <<<"$(pair $PORT_BARE $PORT_BARE pg)" ;;
		bolt) read -r l _ e <<<"$(pair $PORT_BOLT $PORT_BOLT bolt)" ;;
		one) read -r o n e <<<"$(pair $PORT_A $PORT_A pg)"; SENT=$((SENT + n - e)) ;;
		two) read -r t n e <<<"$(pair $PORT_A $PORT_B pg)"; SENT=$((SENT + n - e)) ;;
		esac
		ERRS=$((ERRS + e))
	done
	bolt_r+=("$(ratio "$l" "$b")") one_r+=("$(ratio "$o" "$b")") two_r+=("$(ratio "$t" "$b")")
	pg_bolt+=("$(ratio "$o" "$l")") two_one+=("$(ratio "$t" "$o")")
	echo "| $r | ${order[*]} | $b | $l | $o | $t | ${bolt_r[-1]} | ${one_r[-1]} | ${two_r[-1]} | ${pg_bolt[-1]} | ${two_one[-1]} |"
done
echo
echo "**medians of the rounds' ratios: bbolt/bare $(med "${bolt_r[@]}"), PostgreSQL one/bare $(med "${one_r[@]}"), two/bare $(med "${two_r[@]}"); PostgreSQL one/bbolt $(med "${pg_bolt[@]}"), two/one $(med "${two_one[@]}")**"
((ERRS == 0)) || echo "warning: $ERRS requests failed or were not 3xx" >&2

# Stop both PostgreSQL instances (SIGTERM flushes), then read what they
# stored through a fresh one.
stop a b
start_instance c $PORT_A "$DB"
COUNTED=0
while read -r code; do
	c=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT_A/api/v1/links/$code/stats" |
		grep -o '"clicks":[0-9]*' | head -1 | cut -d: -f2)
	COUNTED=$((COUNTED + c))
done <"$TMP/codes.pg"
# wrk stops with requests in flight: the servers answered and counted
# those, wrk did not.
INFLIGHT=$((2 * ROUNDS * CONNS))
echo
echo "PostgreSQL instances: wrk received $SENT redirects; the database holds $COUNTED clicks (up to $INFLIGHT more than wrk saw is right: requests in flight when wrk stopped)"
((COUNTED >= SENT && COUNTED <= SENT + INFLIGHT)) || echo "warning: the counts do not match what was sent" >&2
