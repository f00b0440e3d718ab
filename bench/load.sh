#!/usr/bin/env bash
# bench/load.sh: darkshare over loopback against a bare Fiber app giving the
# same 302, in ABBA order, server pinned to core 0 and wrk to core 1.
# Run from the repo root: bash bench/load.sh. See bench/README.md.
#
# Settings (environment):
#   DURATION   each wrk run (default 5s)
#   ROUNDS     ABBA pairs per comparison (default 10: single pairs here
#              spread from 0.73 to 1.09, so a median needs many of them)
#   CONNS      wrk connections (default 64)
#   LINKS      links seeded and clicked at random (default 1000)
#   SPREAD     how clicks pick links: uniform (default, the worst case for
#              counting: nearly every click a new link-day at 1M links) or
#              zipf (link i with odds 1/i, as real sharing concentrates)
#   DS_PORT, BARE_PORT        ports on 127.0.0.1 (default 8180, 8181)
#   IMPORT_MIN seed with `darkshare links import` from this many links on,
#              when the binary has that command (default 20000)
#   SERVER_CPU, WRK_CPU       cores to pin to (default 0 and 1)
#   DB         a postgres:// URL of an empty database to run darkshare on
#              instead of a bbolt file in a temporary folder (no import)
#   AGENTS     real user agents rotated in the "many agents" load (default
#              300: the first browsers and in-app browsers of
#              pkg/track/testdata/agents.tsv)
#   COMPARE    a git revision (commit, tag, branch): also build that
#              revision's darkshare, seed it alike, and run the one-agent
#              redirect load against it, ABBA, this checkout's against
#              that one: whether a change made the click path slower,
#              measured in one run as the bare ratios are
#   CMP_PORT   port of the COMPARE server on 127.0.0.1 (default 8182)
set -euo pipefail

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-10}
CONNS=${CONNS:-64}
LINKS=${LINKS:-1000}
SPREAD=${SPREAD:-uniform}
DS_PORT=${DS_PORT:-8180}
BARE_PORT=${BARE_PORT:-8181}
IMPORT_MIN=${IMPORT_MIN:-20000}
SERVER_CPU=${SERVER_CPU:-0}
DB=${DB:-}
AGENTS=${AGENTS:-300}
WRK_CPU=${WRK_CPU:-1}
COMPARE=${COMPARE:-}
CMP_PORT=${CMP_PORT:-8182}
# darkshare refuses a weak DARKSHARE_ADMIN_TOKEN: 256 random bits, in hex.
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# A person's desktop Chrome coming from Gmail: darkshare counts these as
# clicks, the full and dearest path (a bare wrk or curl agent is a bot).
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
REFERER='https://mail.google.com/'
MINT_BODY='{"url":"https://news.example.org/story?id=1","channels":["email"]}'

die() { echo "load.sh: $*" >&2; exit 1; }

cd "$(dirname "$0")/.."
[[ -f go.mod && -d cmd/darkshare ]] || die "run from the darkshare repo"
for tool in go wrk curl taskset awk; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number"
[[ $LINKS =~ ^[1-9][0-9]*$ ]] || die "LINKS must be a positive whole number"
[[ $AGENTS =~ ^[1-9][0-9]*$ ]] || die "AGENTS must be a positive whole number"
[[ -f pkg/track/testdata/agents.tsv ]] || die "pkg/track/testdata/agents.tsv is missing"
[[ $SPREAD == uniform || $SPREAD == zipf ]] || die "SPREAD must be uniform or zipf"
if [[ -n $COMPARE ]]; then
	# Both run on bbolt files, seeded through the API.
	[[ -z $DB ]] || die "COMPARE runs both servers on bbolt: unset DB"
	((LINKS < IMPORT_MIN)) || die "COMPARE seeds through the API: use LINKS below $IMPORT_MIN"
fi
if (($(nproc) < 2)); then
	echo "warning: fewer than 2 cores: server and wrk share one; ratios still hold, absolute numbers do not" >&2
	WRK_CPU=$SERVER_CPU
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/darkshare-bench.XXXXXX")
DS_PID= BARE_PID= CMP_PID=
stop_server() { # PID: TERM, then wait up to 15 s, then KILL
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_server "$DS_PID"
	stop_server "$BARE_PID"
	stop_server "$CMP_PID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- machine -----------------------------------------------------------------

echo "# darkshare load benchmark"
echo
echo "- machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "- $(go version)"
echo "- $(wrk -v 2>&1 | awk 'NR == 1 {print $1, $2}' || true)"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (anything else busy skews the runs)"
echo "- settings: DURATION=$DURATION ROUNDS=$ROUNDS CONNS=$CONNS LINKS=$LINKS SPREAD=$SPREAD; servers on core $SERVER_CPU, wrk on core $WRK_CPU"
echo

# --- build -------------------------------------------------------------------

echo "building ./cmd/darkshare and ./bench/bare ..." >&2
go build -o "$TMP/darkshare" ./cmd/darkshare
go build -o "$TMP/bare" ./bench/bare
if [[ -n $COMPARE ]]; then
	echo "building ./cmd/darkshare of $COMPARE ..." >&2
	git rev-parse --verify --quiet "$COMPARE^{commit}" >/dev/null || die "COMPARE=$COMPARE is not a commit of this repository"
	mkdir "$TMP/cmp-src"
	git archive "$COMPARE" | tar -x -C "$TMP/cmp-src"
	(cd "$TMP/cmp-src" && go build -o "$TMP/darkshare-cmp" ./cmd/darkshare) || die "could not build $COMPARE"
	echo "- compared with: $(git rev-parse --short "$COMPARE") ($COMPARE)"
fi

wait_up() { # NAME URL PID
	for _ in $(seq 100); do
		curl -fso /dev/null "$2" && return 0
		kill -0 "$3" 2>/dev/null || die "$1 exited at start; its log:$(printf '\n')$(cat "$TMP/$1.log")"
		sleep 0.1
	done
	die "$1 did not answer $2 within 10 s"
}

start_darkshare() { # [NAME BINARY PORT DB]: sets STARTED_PID; darkshare's own by default
	local name=${1:-darkshare} bin=${2:-$TMP/darkshare} port=${3:-$DS_PORT} db=${4:-${DB:-$TMP/d.db}}
	# taskset execs the server, so $! is the server's own PID.
	DARKSHARE_ADMIN_TOKEN=$TOKEN taskset -c "$SERVER_CPU" "$bin" serve \
		--listen "127.0.0.1:$port" --db "$db" --flush-interval 1s \
		--allow-host news.example.org >>"$TMP/$name.log" 2>&1 &
	STARTED_PID=$!
	wait_up "$name" "http://127.0.0.1:$port/healthz" "$STARTED_PID"
}

# --- seed --------------------------------------------------------------------

# One admin mint per URL, one channel each, through one keep-alive curl.
# For links imported beforehand the same mints only look them up (no write),
# which is how their codes are collected.
mint_all() { # [PORT CODES]: collects codes into CODES ($TMP/codes), in order of id
	local port=${1:-$DS_PORT} codes=${2:-$TMP/codes}
	awk -v n="$LINKS" -v port="$port" -v token="$TOKEN" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "url = \"http://127.0.0.1:%d/api/v1/links\"\n", port
			printf "header = \"Authorization: Bearer %s\"\n", token
			print "header = \"Content-Type: application/json\""
			printf "data = \"{\\\"url\\\":\\\"https://news.example.org/story?id=%d\\\",\\\"channels\\\":[\\\"email\\\"]}\"\n", i
			print "write-out = \"\\n\""
			if (i < n) print "next"
		}
	}' >"$TMP/mint.curl"
	curl -sS -K "$TMP/mint.curl" >"$TMP/mint.out"
	grep -o '"code":"[^"]*"' "$TMP/mint.out" | cut -d'"' -f4 >"$codes" || true
	local got
	got=$(wc -l <"$codes")
	if ((got != LINKS)); then
		die "minted $got links of $LINKS; first answers:$(printf '\n')$(grep -v '"code"' "$TMP/mint.out" | head -3)"
	fi
}

if [[ -z $DB ]] && ((LINKS >= IMPORT_MIN)) && "$TMP/darkshare" help 2>/dev/null | grep -q 'links import'; then
	echo "importing $LINKS links into a stopped db with darkshare links import ..." >&2
	{
		echo "url,channel"
		awk -v n="$LINKS" 'BEGIN { for (i = 1; i <= n; i++) printf "https://news.example.org/story?id=%d,email\n", i }'
	} >"$TMP/links.csv"
	# links import works on a db that serve has made: a first start makes it.
	start_darkshare
	stop_server "$STARTED_PID"
	start=$(date +%s.%N)
	# From $TMP, so that a default ./darkshare.db could never land in the repo.
	(cd "$TMP" && DARKSHARE_DB="$TMP/d.db" "$TMP/darkshare" links import --db "$TMP/d.db" "$TMP/links.csv") >"$TMP/import.log" 2>&1 ||
		die "links import failed:$(printf '\n')$(tail -5 "$TMP/import.log")"
	echo "imported in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s" >&2
fi

for port in "$DS_PORT" "$BARE_PORT" ${COMPARE:+"$CMP_PORT"}; do
	if curl -so /dev/null "http://127.0.0.1:$port/"; then
		die "port $port is busy; set DS_PORT, BARE_PORT or CMP_PORT"
	fi
done
start_darkshare
DS_PID=$STARTED_PID
if [[ -n $COMPARE ]]; then
	start_darkshare compare "$TMP/darkshare-cmp" "$CMP_PORT" "$TMP/cmp.db"
	CMP_PID=$STARTED_PID
fi
taskset -c "$SERVER_CPU" "$TMP/bare" --listen "127.0.0.1:$BARE_PORT" >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
wait_up bare "http://127.0.0.1:$BARE_PORT/ready" "$BARE_PID" # any path answers 302

echo "seeding $LINKS links through POST /api/v1/links ..." >&2
start=$(date +%s.%N)
mint_all
[[ -z $COMPARE ]] || mint_all "$CMP_PORT" "$TMP/codes-cmp"
echo "seeded in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s" >&2
FIRST_CODE=$(head -1 "$TMP/codes")

# Check all answer the same 302 before measuring anything.
for url in "http://127.0.0.1:$DS_PORT/$FIRST_CODE" "http://127.0.0.1:$BARE_PORT/$FIRST_CODE" \
	${COMPARE:+"http://127.0.0.1:$CMP_PORT/$(head -1 "$TMP/codes-cmp")"}; do
	status=$(curl -so /dev/null -A "$UA" -w '%{http_code} %{redirect_url}' "$url")
	[[ $status == 302\ https://news.example.org/story\?id=* ]] || die "GET $url answered $status, not a 302 to the story"
done

# --- wrk scripts -------------------------------------------------------------

# Every run goes through a Lua request() so that wrk's own cost is alike in
# all of them; requests are formatted once, up front, where memory allows.
click_script() { # CODES: the one-agent clicks on the links of CODES
	cat <<EOF
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Referer"] = "$REFERER"
local paths = {}
for code in io.lines("$1") do paths[#paths + 1] = "/" .. code end
local n = #paths
local reqs
if n <= 100000 then
  reqs = {}
  for i = 1, n do reqs[i] = wrk.format("GET", paths[i]) end
end
math.randomseed(os.time())
local zipf = "$SPREAD" == "zipf"
request = function()
  local i = math.random(n)
  -- n^u for u uniform in [0, 1) is i with odds about 1/i.
  if zipf then i = math.max(1, math.floor(n ^ math.random())) end
  if reqs then return reqs[i] end
  return wrk.format("GET", paths[i])
end
EOF
}
click_script "$TMP/codes" >"$TMP/click.lua"
[[ -z $COMPARE ]] || click_script "$TMP/codes-cmp" >"$TMP/click-cmp.lua"

# The same clicks, from AGENTS real browsers and in-app browsers in turn
# (humans of the classifier's public corpus): a working set of agents, each
# classified once and then found in the verdict cache.
awk -F'\t' -v n="$AGENTS" '$1 == "human" && c < n { print $4; c++ }' pkg/track/testdata/agents.tsv >"$TMP/agents.txt"
cat >"$TMP/agents.lua" <<EOF
wrk.headers["Referer"] = "$REFERER"
local paths = {}
for code in io.lines("$TMP/codes") do paths[#paths + 1] = "/" .. code end
local agents = {}
for ua in io.lines("$TMP/agents.txt") do agents[#agents + 1] = ua end
local n, k, i = #paths, #agents, 0
math.randomseed(os.time())
request = function()
  i = i % k + 1
  return wrk.format("GET", paths[math.random(n)], { ["User-Agent"] = agents[i] })
end
EOF

# The same clicks, from an agent never seen before on every request: a
# browser-like agent with random versions and a counter, which the
# classifier has to classify and the cache has to admit or refuse.
cat >"$TMP/newagent.lua" <<EOF
wrk.headers["Referer"] = "$REFERER"
local paths = {}
for code in io.lines("$TMP/codes") do paths[#paths + 1] = "/" .. code end
local n, i = #paths, 0
math.randomseed(os.time())
local run = tostring(math.random(1000000))
request = function()
  i = i + 1
  local ua = string.format("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36 r%s/%d",
    math.random(90, 140), math.random(1000, 9999), math.random(0, 999), run, i)
  return wrk.format("GET", paths[math.random(n)], { ["User-Agent"] = ua })
end
EOF

cat >"$TMP/mint.lua" <<EOF
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local req = wrk.format("POST", "/api/v1/links", nil, '$MINT_BODY')
request = function() return req end
EOF

# A new URL per request: thread number and counter, plus a run id so a rerun
# on the same db would still mint.
cat >"$TMP/mintnew.lua" <<EOF
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/links", nil,
    '{"url":"https://news.example.org/new?run=$$&t=' .. tostring(tid) .. '&n=' .. n .. '","channels":["email"]}')
end
EOF

# --- measuring ---------------------------------------------------------------

# cpu_ticks PID: the CPU time the process has used, user and system, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# run_wrk NAME PORT SCRIPT PATH PID: one wrk run; prints "req/s p50_ms p99_ms
# errors cpu_us", the last the server's CPU time per request (PID's).
# Throughput alone can hide a server's cost: when wrk itself is the
# bottleneck (a Lua script that builds every request), both servers keep up
# and their throughputs match whatever each request costs them.
run_wrk() {
	local out before
	out=$(mktemp "$TMP/wrk-$1.XXXXXX")
	before=$(cpu_ticks "$5")
	taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$3" "http://127.0.0.1:$2$4" >"$out" 2>&1 ||
		die "wrk failed:$(printf '\n')$(cat "$out")"
	echo "CPU $(($(cpu_ticks "$5") - before))" >>"$out"
	awk -v tck="$CLK_TCK" '
		function ms(v) {
			if (v ~ /us$/) return v / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /m$/) return v * 60000
			if (v ~ /s$/) return v * 1000
			return v
		}
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx or 3xx responses:/ { errs += $NF }
		/Socket errors:/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) errs += $i + 0 }
		/ requests in / { n = $1 }
		/^CPU / { cpu = $2 }
		END { printf "%.0f %.3f %.3f %d %.2f\n", rps, p50, p99, errs, n ? cpu * 1e6 / tck / n : 0 }
	' "$out"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# abba TITLE SCRIPT_A PATH_A SCRIPT_B PATH_B: A is the bare app, B darkshare,
# unless A_NAME, A_PORT and A_PID say otherwise (the COMPARE server).
# Prints a Markdown table of every run and the median of per-pair ratios,
# and leaves the medians in TPUT_RATIO, P99_RATIO, CPU_RATIO (A's server
# CPU per request over darkshare's: 1 is as cheap as A, 0.5 twice its
# cost), BARE_RPS, DS_RPS, BARE_CPU and DS_CPU (µs a request; BARE is A).
abba() {
	local title=$1 sa=$2 pa=$3 sb=$4 pb=$5 pair order who res rps p50 p99 errs cpu arps ap99 acpu brps bp99 bcpu
	local an=${A_NAME:-bare} ap=${A_PORT:-$BARE_PORT} apid=${A_PID:-$BARE_PID}
	local -a ratios_t=() ratios_p=() ratios_c=() bare_rps=() ds_rps=() bare_cpu=() ds_cpu=()
	echo "## $title"
	echo
	echo "| pair | order | server | req/s | p50 ms | p99 ms | server CPU µs/request | non-2xx/3xx + socket errors |"
	echo "|---|---|---|---|---|---|---|---|"
	for pair in $(seq "$ROUNDS"); do
		if ((pair % 2)); then order="$an darkshare"; else order="darkshare $an"; fi
		local a="" b=""
		for who in $order; do
			if [[ $who == "$an" ]]; then
				res=$(run_wrk "$an" "$ap" "$sa" "$pa" "$apid")
				a=$res
			else
				res=$(run_wrk darkshare "$DS_PORT" "$sb" "$pb" "$DS_PID")
				b=$res
			fi
			read -r rps p50 p99 errs cpu <<<"$res"
			echo "| $pair | ${order/ /→} | $who | $rps | $p50 | $p99 | $cpu | $errs |"
			if ((errs > 0)); then
				echo "warning: $who answered $errs requests with an error or unexpected status" >&2
			fi
		done
		read -r arps _ ap99 _ acpu <<<"$a"
		read -r brps _ bp99 _ bcpu <<<"$b"
		ratios_t+=("$(awk -v x="$brps" -v y="$arps" 'BEGIN {printf "%.3f", x / y}')")
		ratios_p+=("$(awk -v x="$bp99" -v y="$ap99" 'BEGIN {printf "%.2f", x / y}')")
		ratios_c+=("$(awk -v x="$acpu" -v y="$bcpu" 'BEGIN {printf "%.3f", x / y}')")
		bare_rps+=("$arps")
		ds_rps+=("$brps")
		bare_cpu+=("$acpu")
		ds_cpu+=("$bcpu")
	done
	TPUT_RATIO=$(printf '%s\n' "${ratios_t[@]}" | median)
	P99_RATIO=$(printf '%s\n' "${ratios_p[@]}" | median)
	BARE_RPS=$(printf '%s\n' "${bare_rps[@]}" | median)
	DS_RPS=$(printf '%s\n' "${ds_rps[@]}" | median)
	CPU_RATIO=$(printf '%s\n' "${ratios_c[@]}" | median)
	BARE_CPU=$(printf '%s\n' "${bare_cpu[@]}" | median)
	DS_CPU=$(printf '%s\n' "${ds_cpu[@]}" | median)
	echo
	echo "per-pair darkshare/$an throughput: ${ratios_t[*]}; p99: ${ratios_p[*]}; $an/darkshare server CPU per request: ${ratios_c[*]}"
	echo
	echo "**median of per-pair ratios: throughput $TPUT_RATIO, p99 latency $P99_RATIO, server CPU per request ($an/darkshare) $CPU_RATIO** (medians: $an $BARE_RPS req/s and $BARE_CPU µs a request, darkshare $DS_RPS req/s and $DS_CPU µs)"
	echo
}

rss() { awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$DS_PID/status"; }
dbsize() {
	if [[ -n $DB ]]; then echo "(PostgreSQL)"; return; fi
	stat -c %s "$TMP/d.db" | awk '{printf "%.1f MiB", $1 / 1048576}'
}

echo "- seeded: $LINKS links; darkshare RSS $(rss), db $(dbsize)"
echo

abba "Redirects: GET /{code} of $LINKS links at random ($SPREAD), desktop Chrome from Gmail (counted as clicks)" \
	"$TMP/click.lua" / "$TMP/click.lua" /
CLICK_T=$TPUT_RATIO CLICK_P=$P99_RATIO CLICK_BARE=$BARE_RPS CLICK_DS=$DS_RPS CLICK_C=$CPU_RATIO CLICK_BARECPU=$BARE_CPU CLICK_DSCPU=$DS_CPU

if [[ -n $COMPARE ]]; then
	A_NAME=compare A_PORT=$CMP_PORT A_PID=$CMP_PID abba \
		"Redirects as above: this checkout's darkshare against $COMPARE's (its own $LINKS links)" \
		"$TMP/click-cmp.lua" / "$TMP/click.lua" /
	CMP_T=$TPUT_RATIO CMP_P=$P99_RATIO CMP_C=$CPU_RATIO CMP_RPS=$BARE_RPS CMP_DS=$DS_RPS CMP_CPU=$BARE_CPU CMP_DSCPU=$DS_CPU
	# The compare server is idle from here on; it would only take memory.
	stop_server "$CMP_PID"
	CMP_PID=
fi

sleep 2 # one flush interval and then some, so the db holds the counts
# Sum over a few codes: with many links, any one of them may have had no request.
CLICKS=0 BOTS=0 SAMPLED=0
field() { grep -o "\"$1\":[0-9]*" <<<"$2" | head -1 | cut -d: -f2; }
while read -r code; do
	stats=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$DS_PORT/api/v1/links/$code/stats") ||
		die "could not read the stats of $code"
	if ((SAMPLED == 0)); then
		echo "stats of /$code after the click runs: clicks $(field clicks "$stats"), bots $(field bots "$stats"), previews $(field previews "$stats"), unique_visitors $(field unique_visitors "$stats") (one client: 1 is right)"
	fi
	CLICKS=$((CLICKS + $(field clicks "$stats"))) BOTS=$((BOTS + $(field bots "$stats"))) SAMPLED=$((SAMPLED + 1))
done < <(head -20 "$TMP/codes")
echo "over the first $SAMPLED codes: clicks $CLICKS, bots $BOTS"
((CLICKS > 0)) || echo "warning: no click was counted: the click path was not measured" >&2
((BOTS == 0)) || echo "warning: $BOTS requests counted as bots: check the wrk User-Agent" >&2
CLICK_RSS=$(rss) CLICK_DB=$(dbsize)
echo "darkshare after the click runs: RSS $CLICK_RSS, db $CLICK_DB"
echo

abba "Redirects from $(wc -l <"$TMP/agents.txt") real browsers and in-app browsers in turn (pkg/track/testdata/agents.tsv)" \
	"$TMP/agents.lua" / "$TMP/agents.lua" /
AGENTS_T=$TPUT_RATIO AGENTS_P=$P99_RATIO AGENTS_BARE=$BARE_RPS AGENTS_DS=$DS_RPS AGENTS_C=$CPU_RATIO AGENTS_BARECPU=$BARE_CPU AGENTS_DSCPU=$DS_CPU

abba "Redirects from a never-seen browser-like agent on every request" \
	"$TMP/newagent.lua" / "$TMP/newagent.lua" /
NEWUA_T=$TPUT_RATIO NEWUA_P=$P99_RATIO NEWUA_BARE=$BARE_RPS NEWUA_DS=$DS_RPS NEWUA_C=$CPU_RATIO NEWUA_BARECPU=$BARE_CPU NEWUA_DSCPU=$DS_CPU

abba "Idempotent mints: POST /api/v1/links of one existing URL, admin bearer (darkshare) vs GET 302 (bare)" \
	"$TMP/click.lua" / "$TMP/mint.lua" /
MINT_T=$TPUT_RATIO MINT_P=$P99_RATIO MINT_BARE=$BARE_RPS MINT_DS=$DS_RPS MINT_C=$CPU_RATIO MINT_BARECPU=$BARE_CPU MINT_DSCPU=$DS_CPU

echo "## First mints: POST /api/v1/links of a new URL each time, admin bearer"
echo
res=$(run_wrk mintnew "$DS_PORT" "$TMP/mintnew.lua" / "$DS_PID")
read -r NEW_RPS NEW_P50 NEW_P99 NEW_ERRS _ <<<"$res"
echo "darkshare: $NEW_RPS req/s, p50 $NEW_P50 ms, p99 $NEW_P99 ms, errors $NEW_ERRS (bare 302 for scale: $CLICK_BARE req/s)"
((NEW_ERRS == 0)) || echo "warning: $NEW_ERRS first mints failed" >&2
sleep 2
END_RSS=$(rss) END_DB=$(dbsize)
echo "darkshare at the end: RSS $END_RSS, db $END_DB"
echo

echo "## Summary (paste into docs/PERFORMANCE.md)"
echo
echo "$(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(go version | awk '{print $3}'), wrk -t1 -c$CONNS -d$DURATION, server on core $SERVER_CPU, wrk on core $WRK_CPU, $ROUNDS ABBA pairs, $LINKS links."
echo
echo "| measurement | darkshare req/s | bare Fiber req/s | darkshare/bare throughput | darkshare/bare p99 | server CPU µs a request, darkshare / bare | bare/darkshare CPU a request |"
echo "|---|---|---|---|---|---|---|"
echo "| redirect, random code, counted as a click | $CLICK_DS | $CLICK_BARE | $CLICK_T | $CLICK_P | $CLICK_DSCPU / $CLICK_BARECPU | $CLICK_C |"
if [[ -n $COMPARE ]]; then
	echo "| the same, against $COMPARE's darkshare (its figures in the bare columns) | $CMP_DS | $CMP_RPS | $CMP_T | $CMP_P | $CMP_DSCPU / $CMP_CPU | $CMP_C |"
fi
echo "| redirect, $(wc -l <"$TMP/agents.txt") real agents in turn | $AGENTS_DS | $AGENTS_BARE | $AGENTS_T | $AGENTS_P | $AGENTS_DSCPU / $AGENTS_BARECPU | $AGENTS_C |"
echo "| redirect, a new agent every request | $NEWUA_DS | $NEWUA_BARE | $NEWUA_T | $NEWUA_P | $NEWUA_DSCPU / $NEWUA_BARECPU | $NEWUA_C |"
echo "| idempotent mint (admin) vs bare 302 | $MINT_DS | $MINT_BARE | $MINT_T | $MINT_P | $MINT_DSCPU / $MINT_BARECPU | $MINT_C |"
echo "| first mint of a new URL (admin) | $NEW_RPS | | | p99 $NEW_P99 ms | | |"
echo
echo "| darkshare memory and disk | RSS | db file |"
echo "|---|---|---|"
echo "| after the click runs ($LINKS links) | $CLICK_RSS | $CLICK_DB |"
echo "| at the end, after $DURATION of first mints | $END_RSS | $END_DB |"
echo
echo "Ratios are medians of per-pair ratios within this run; absolute req/s vary by about ±15% between runs on shared machines."
