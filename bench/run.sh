#!/usr/bin/env bash
# bench/run.sh: the side-by-side benchmarks of issue 7, in one command.
#
#   bash bench/run.sh            # run everything, print the tables, write bench/out/
#   bash bench/run.sh --update   # … and rewrite the section in BENCHMARKS.md
#
# It builds the Go programs and the root package's test binary, installs
# the pinned JS SDK (npm ci) and benchstat, starts a TLS sink and
# `nh emulator` on 127.0.0.1 as separate processes, runs every client as
# its own process, interleaved and repeated, and profiles the SDK client.
# Then it runs issue 15's bulk sends against throttled emulators (one per
# rate); the emulator's go test -bench (which includes issue 17's
# BenchmarkDeliverApns and BenchmarkDeliverBroadcast, about 15 s: pushes
# per second to an APNs stand-in, and a 100,000-device broadcast with the
# emulator's peak RSS); issue 2's in-process check:
# the test binary's BenchmarkSendOverhead (the bare POST, the SDK and
# azcore's pipeline alone taking turns in one process; server=tls and
# server=plain, GOMAXPROCS 1 and 2), repeated (bench/out/overhead.txt);
# and the SDK's micro-benchmarks (validation, SAS signing, tag
# expressions, a send without the network; bench/out/sdk-micro.txt).
# Last it writes markdown tables to stdout and bench/out/report.md. With
# the defaults it takes about 9 minutes on 2 cores.
#
# The ceiling and the SDK run as one benchclient -client pair: two child
# processes taking turns in slices (BENCH_SLICES of BENCH_SLICE each, in
# the order ceiling, SDK, SDK, ceiling, …), so that the drift of a busy
# machine falls on both alike; against the sink and against the emulator.
#
# Knobs (environment): BENCH_ROUNDS (4), BENCH_DURATION (2s per run of the
# JS SDK), BENCH_SLICES (10) and BENCH_SLICE (200ms) for the pairs,
# BENCH_CONCS ("1 8 64"), BENCH_JS_CONCS ("1 64"), BENCH_PAYLOADS
# ("fcmv1 apple"), BENCH_CLI_ROWS (5000), BENCH_OVERHEAD_ROUNDS (4 runs
# of BenchmarkSendOverhead per server and GOMAXPROCS; 0: skip),
# BENCH_OVERHEAD_BENCHTIME (3s, its -test.benchtime), BENCH_SDK_MICRO (1: run the SDK's
# micro-benchmarks; 0: skip), BENCH_EMULATOR_BENCH (1: run the emulator's
# go test -bench; 0: skip), BENCH_BULK (1: run issue 15's bulk table
# against throttled emulators, about 2 minutes; 0: skip), BENCH_BULK_ROWS
# (5000), BENCH_BULK_RATES ("100 500 2000"), BENCH_BULK_CONCS ("4 16 64"),
# BENCH_BULK_TOLD_CONC (16), BENCH_BULK_WINDOW_RATE (500; empty: skip).
#
# Everything listens on and talks to loopback only; every client run is
# bounded in time and count, and the servers stop by themselves after
# 30 minutes. No key or connection string is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

UPDATE=0
for a in "$@"; do
  case "$a" in
    --update) UPDATE=1 ;;
    *) echo "run.sh: unknown argument $a (want --update)" >&2; exit 2 ;;
  esac
done

ROUNDS=${BENCH_ROUNDS:-4}
DURATION=${BENCH_DURATION:-2s}
SLICES=${BENCH_SLICES:-10}
SLICE=${BENCH_SLICE:-200ms}
CONCS=${BENCH_CONCS:-"1 8 64"}
JS_CONCS=${BENCH_JS_CONCS:-"1 64"}
PAYLOADS=${BENCH_PAYLOADS:-"fcmv1 apple"}
CLI_ROWS=${BENCH_CLI_ROWS:-5000}
EMU_BENCH=${BENCH_EMULATOR_BENCH:-1}
OVER_ROUNDS=${BENCH_OVERHEAD_ROUNDS:-4}
OVER_BENCHTIME=${BENCH_OVERHEAD_BENCHTIME:-3s}
SDK_MICRO=${BENCH_SDK_MICRO:-1}
BULK=${BENCH_BULK:-1}
BULK_ROWS=${BENCH_BULK_ROWS:-5000}
BULK_RATES=${BENCH_BULK_RATES:-"100 500 2000"}
BULK_CONCS=${BENCH_BULK_CONCS:-"4 16 64"}
BULK_TOLD_CONC=${BENCH_BULK_TOLD_CONC:-16}
BULK_WINDOW_RATE=${BENCH_BULK_WINDOW_RATE-500}
case "$OVER_ROUNDS" in
  '' | *[!0-9]*) echo "run.sh: BENCH_OVERHEAD_ROUNDS must be a count, not $OVER_ROUNDS" >&2; exit 2 ;;
esac
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da # golang.org/x/perf

OUT=$ROOT/bench/out
TOOLS=$ROOT/bench/.tools/bin
WORK=$(mktemp -d)
BIN=$WORK/bin
mkdir -p "$OUT" "$TOOLS" "$BIN"
: >"$OUT/results.txt"
: >"$OUT/notes.txt"
START=$(date +%s)
echo "Load average when the run started: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (other work on the machine adds noise)." >>"$OUT/notes.txt"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "run.sh: $*" >&2; }
note() { echo "$*" >>"$OUT/notes.txt"; log "note: $*"; }

log "building the Go programs"
go build -o "$BIN/" ./bench/cmd/benchsink ./bench/cmd/benchclient ./bench/cmd/benchreport
HAVE_NH=1
if ! go build -o "$BIN/" ./cmd/nh; then
  HAVE_NH=0
  note "nh did not build; the emulator and CLI rows are missing."
fi
HAVE_NHTEST=0
if [ "$OVER_ROUNDS" -gt 0 ]; then
  if go test -c -o "$BIN/nh.test" .; then
    HAVE_NHTEST=1
  else
    note "The root package's test binary did not build; the in-process overhead table is missing."
  fi
fi

HAVE_JS=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  log "installing the pinned JS SDK (npm ci)"
  if (cd bench/js && npm ci --no-audit --no-fund --loglevel=error >&2); then
    HAVE_JS=1
  else
    note "The JS SDK could not be installed (npm ci failed); its rows are missing."
  fi
else
  note "Node.js is not installed; the JS SDK rows are missing."
fi

if [ ! -x "$TOOLS/benchstat" ]; then
  log "installing benchstat"
  GOBIN=$TOOLS GOFLAGS=-mod=mod go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION" >&2
fi

log "starting the sink and the emulator"
CERT=$WORK/cert.pem
KEY=$WORK/key.pem
"$BIN/benchsink" -gencert -cert "$CERT" -key "$KEY"
"$BIN/benchsink" -cert "$CERT" -key "$KEY" -addr-file "$WORK/sink.addr" -max-duration 30m >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
: >"$WORK/emulator.log"
if [ "$HAVE_NH" = 1 ]; then
  timeout 1800 "$BIN/nh" emulator --listen 127.0.0.1:0 --cert "$CERT" --cert-key "$KEY" >"$WORK/emulator.log" 2>&1 &
  PIDS+=($!)
fi

for _ in $(seq 1 100); do
  [ -s "$WORK/sink.addr" ] && { [ "$HAVE_NH" = 0 ] || grep -q '^Connection string (full)' "$WORK/emulator.log"; } && break
  sleep 0.1
done
[ -s "$WORK/sink.addr" ] || { log "the sink did not start"; cat "$WORK/sink.log" >&2; exit 1; }
SINK_ADDR=$(cat "$WORK/sink.addr")
# The emulator prints its connection strings (with its published
# development key); they stay in $WORK and are never printed.
EMU_CS=$(sed -n 's/^Connection string (full): *//p' "$WORK/emulator.log" | sed 's#sb://localhost:#sb://127.0.0.1:#')
if [ "$HAVE_NH" = 1 ] && [ -z "$EMU_CS" ]; then
  note "The emulator did not start; the emulator and CLI rows are missing."
  grep -v 'Connection string' "$WORK/emulator.log" >&2 || true
fi
# The sink checks no signature; its key is random for each run.
SINK_CS="Endpoint=sb://$SINK_ADDR/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=$(head -c 32 /dev/urandom | base64)"

# The Go clients trust the certificate as a system root and speak
# HTTP/1.1 to both servers (the sink offers only HTTP/1.1).
export SSL_CERT_FILE=$CERT GODEBUG=http2client=0
export NODE_EXTRA_CA_CERTS=$CERT

HAVE_EMU=0
[ -n "$EMU_CS" ] && HAVE_EMU=1
if [ "$HAVE_EMU" = 1 ] && log "creating the emulator's installations" && ! BENCH_CONNECTION_STRING=$EMU_CS "$BIN/benchclient" -client setup -users 1000; then
  HAVE_EMU=0
  note "The emulator's installations could not be created; the emulator rows are missing."
fi

HAVE_EACH=0
if [ "$HAVE_EMU" = 0 ]; then
  :
elif NH_SEND_HELP=$("$BIN/nh" send --help 2>&1) && [[ "$NH_SEND_HELP" == *--each* ]]; then
  HAVE_EACH=1
else
  note "nh send has no --each yet; the CLI bulk table is missing."
fi

# A failed client run is noted and skipped, so that one broken part does
# not hide the others; the notes never carry a connection string.
goclient() { # server args...
  local server=$1 cs
  shift
  if [ "$server" = emulator ]; then cs=$EMU_CS; else cs=$SINK_CS; fi
  if ! BENCH_CONNECTION_STRING=$cs "$BIN/benchclient" -server "$server" -duration "$DURATION" -slices "$SLICES" -slice "$SLICE" "$@" >"$WORK/line"; then
    note "A run failed: benchclient -server $server $*."
    return 0
  fi
  tee -a "$OUT/results.txt" <"$WORK/line" >&2
}
jsclient() { # conc payload
  local ms
  ms=$(awk -v s="${DURATION%s}" 'BEGIN { printf "%d", s * 1000 }')
  if ! (cd bench/js && BENCH_CONNECTION_STRING=$SINK_CS node send.mjs --server sink --conc "$1" --payload "$2" --duration-ms "$ms") >"$WORK/line"; then
    note "A run failed: node send.mjs --conc $1 --payload $2."
    return 0
  fi
  tee -a "$OUT/results.txt" <"$WORK/line" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for conc in $CONCS; do
    for payload in $PAYLOADS; do
      goclient sink -client pair -conc "$conc" -payload "$payload"
      if [ "$HAVE_JS" = 1 ] && [[ " $JS_CONCS " == *" $conc "* ]]; then
        jsclient "$conc" "$payload"
      fi
      if [ "$HAVE_EMU" = 1 ]; then
        goclient emulator -client pair -conc "$conc" -payload "$payload"
      fi
    done
  done
  if [ "$HAVE_EMU" = 1 ] && [ "$HAVE_EACH" = 1 ]; then
    goclient emulator -client cli -nh "$BIN/nh" -rows "$CLI_ROWS" -conc 64 -users 1000
  fi
done

# Issue 15's table: bulk sends of BENCH_BULK_ROWS rows through the SDK's
# BulkSender and `nh send --each` against emulators that throttle at each
# of BENCH_BULK_RATES sends/s (a token bucket holding a tenth of a second's
# worth), at each of BENCH_BULK_CONCS; at concurrency BENCH_BULK_TOLD_CONC
# also with the rate given (--max-rate), and against fixed one-second
# windows at BENCH_BULK_WINDOW_RATE. Every cell has a hub of its own (the
# throttle is per hub), so cells run side by side without sharing a
# bucket, in three phases (below) that keep under about 1,600 sends/s
# together: a cell at 100/s takes 50 s but little CPU, and a machine too
# busy to answer on time stalls the emulator, which its bucket then
# counts as a burst.
bulk_emulator() { # name args... → prints the connection string
  local name=$1 log
  shift
  log=$WORK/emulator-bulk-$name.log
  timeout 1800 "$BIN/nh" emulator --listen 127.0.0.1:0 --cert "$CERT" --cert-key "$KEY" "$@" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q '^Connection string (full)' "$log" && break
    sleep 0.1
  done
  sed -n 's/^Connection string (full): *//p' "$log" | sed 's#sb://localhost:#sb://127.0.0.1:#'
}
bulk_cell() { # cs rate model via conc [max-rate]
  local cs=$1 rate=$2 model=$3 via=$4 conc=$5 maxrate=${6:-0} hub out
  hub="bulk-$rate-$model-$via-c$conc-m$maxrate"
  out=$WORK/bulk/$hub.txt
  if ! BENCH_CONNECTION_STRING=$cs "$BIN/benchclient" -client bulk -via "$via" -model "$model" -rate "$rate" \
    -max-rate "$maxrate" -rows "$BULK_ROWS" -conc "$conc" -users 1000 -hub "$hub" -nh "$BIN/nh" >"$out" 2>"$out.err"; then
    note "A bulk run failed: -via $via -model $model -rate $rate -conc $conc -max-rate $maxrate: $(head -c 300 "$out.err" | sed -E 's/(SharedAccessKey=)[^;[:space:]"]*/\1…/g')"
    : >"$out"
  fi
}
bulk_track() { # cs rate model via: every cell of one client and rate, in turn
  local cs=$1 rate=$2 model=$3 via=$4 conc
  if [ "$model" = window ]; then
    bulk_cell "$cs" "$rate" window "$via" "$BULK_TOLD_CONC"
    return
  fi
  for conc in $BULK_CONCS; do bulk_cell "$cs" "$rate" "$model" "$via" "$conc"; done
  bulk_cell "$cs" "$rate" "$model" "$via" "$BULK_TOLD_CONC" "$rate"
}
if [ "$BULK" = 1 ] && [ "$HAVE_NH" = 1 ]; then
  log "bulk sends against throttled emulators (issue 15)"
  BULK_START=$(date +%s)
  mkdir -p "$WORK/bulk"
  declare -A BULK_CS
  for rate in $BULK_RATES; do
    BULK_CS[$rate]=$(bulk_emulator "r$rate" --throttle-rate "$rate" --throttle-burst "$(awk -v r="$rate" 'BEGIN { b = int(r / 10); print (b < 1 ? 1 : b) }')")
  done
  BULK_WINDOW_CS=""
  if [ -n "$BULK_WINDOW_RATE" ]; then
    BULK_WINDOW_CS=$(bulk_emulator window --throttle-rate "$BULK_WINDOW_RATE" --throttle-window 1s)
  fi
  # Phase 1: the cells at 100/s or less that must find the rate, side by
  # side, with the fixed-window cells. Phase 2: the other cells up to
  # 500/s, a track per client and rate, with the cells at 100/s or less
  # that are told the rate. Phase 3: the cells above 500/s, one at a time.
  JOBS=()
  for rate in $BULK_RATES; do
    cs=${BULK_CS[$rate]}
    [ -n "$cs" ] || { note "The emulator throttled at $rate/s did not start; its bulk rows are missing."; continue; }
    if [ "${rate%.*}" -le 100 ]; then
      for via in sdk cli; do
        for conc in $BULK_CONCS; do bulk_cell "$cs" "$rate" bucket "$via" "$conc" & JOBS+=($!); done
      done
    fi
  done
  if [ -n "$BULK_WINDOW_CS" ]; then
    for via in sdk cli; do bulk_track "$BULK_WINDOW_CS" "$BULK_WINDOW_RATE" window "$via" & JOBS+=($!); done
  fi
  for j in "${JOBS[@]}"; do wait "$j" || true; done
  JOBS=()
  for rate in $BULK_RATES; do
    cs=${BULK_CS[$rate]}
    [ -n "$cs" ] || continue
    if [ "${rate%.*}" -le 100 ]; then
      for via in sdk cli; do bulk_cell "$cs" "$rate" bucket "$via" "$BULK_TOLD_CONC" "$rate" & JOBS+=($!); done
    elif [ "${rate%.*}" -le 500 ]; then
      for via in sdk cli; do bulk_track "$cs" "$rate" bucket "$via" & JOBS+=($!); done
    fi
  done
  for j in "${JOBS[@]}"; do wait "$j" || true; done
  for rate in $BULK_RATES; do
    if [ "${rate%.*}" -gt 500 ] && [ -n "${BULK_CS[$rate]}" ]; then
      for via in sdk cli; do bulk_track "${BULK_CS[$rate]}" "$rate" bucket "$via"; done
    fi
  done
  cat "$WORK"/bulk/*.txt | tee -a "$OUT/results.txt" >&2
  note "The bulk table took $(($(date +%s) - BULK_START))s: the cells at 100/s that find the rate side by side with the window cells, then the other cells up to 500/s a track per client and rate (with the told cells at 100/s), then the cells at 2000/s one at a time."
elif [ "$BULK" != 1 ]; then
  note "The bulk sends against throttled emulators were skipped (BENCH_BULK=0)."
fi

log "profiling the SDK client (CPU, concurrency 1 and 64)"
for conc in 1 64; do
  BENCH_CONNECTION_STRING=$SINK_CS "$BIN/benchclient" -server sink -client sdk -conc "$conc" -payload fcmv1 \
    -duration "$DURATION" -cpuprofile "$OUT/sdk-conc$conc.pprof" >"$OUT/profile-run-conc$conc.txt"
  go tool pprof -top -nodecount=30 "$BIN/benchclient" "$OUT/sdk-conc$conc.pprof" >"$OUT/profile-sdk-conc$conc.txt" 2>/dev/null || true
done

: >"$OUT/emulator-bench.txt"
if [ "$EMU_BENCH" = 1 ] && grep -qs '^func Benchmark' emulator/*_test.go; then
  log "running the emulator's Go benchmarks"
  # Without the clients' GODEBUG: the delivery benchmarks speak HTTP/2 to
  # the APNs stand-in, which (like APNs) refuses HTTP/1.1.
  if ! env -u GODEBUG -u SSL_CERT_FILE go test -run='^$' -bench=. -benchmem -timeout=8m ./emulator/ >"$OUT/emulator-bench.txt" 2>&1; then
    note "The emulator's Go benchmarks failed; their output is below."
  fi
elif [ "$EMU_BENCH" != 1 ]; then
  note "The emulator's Go benchmarks were skipped (BENCH_EMULATOR_BENCH=0)."
else
  note "The emulator has no Go benchmarks yet."
fi

# Issue 2's check, in one process: BenchmarkSendOverhead interleaves the
# three senders itself, so one go test run of -count rounds does it. A
# failed run is noted and the table left out.
: >"$OUT/overhead.txt"
rm -f "$OUT/overhead-failed.txt"
if [ "$HAVE_NHTEST" = 1 ]; then
  log "SDK overhead in one process ($OVER_ROUNDS runs of $OVER_BENCHTIME per server)"
  if env -u GODEBUG -u SSL_CERT_FILE "$BIN/nh.test" -test.run='^$' -test.bench='^BenchmarkSendOverhead$' \
    -test.benchtime="$OVER_BENCHTIME" -test.count="$OVER_ROUNDS" -test.cpu=1,2 -test.timeout=20m >"$WORK/over" 2>&1 &&
    grep -q '^BenchmarkSendOverhead/server=' "$WORK/over"; then
    grep '^Benchmark' "$WORK/over" | tee "$OUT/overhead.txt" >&2
  else
    # The test key's signatures are not secret, but keep them out anyway.
    sed -E 's/(sig=)[^&[:space:]"]*/\1…/g; s/(SharedAccessKey=)[^;[:space:]"]*/\1…/g' "$WORK/over" >"$OUT/overhead-failed.txt"
    note "The in-process overhead benchmark failed (output in bench/out/overhead-failed.txt); its table is missing."
  fi
elif [ "$OVER_ROUNDS" = 0 ]; then
  note "The in-process overhead benchmarks were skipped (BENCH_OVERHEAD_ROUNDS=0)."
fi

: >"$OUT/sdk-micro.txt"
if [ "$SDK_MICRO" = 1 ]; then
  log "running the SDK's micro-benchmarks"
  MICRO_OK=1
  go test -run='^$' -bench='^(BenchmarkValidate|BenchmarkSendSASPolicy|BenchmarkSendSignEveryRequest)$' -benchmem -timeout=8m . \
    >>"$OUT/sdk-micro.txt" 2>&1 || MICRO_OK=0
  go test -run='^$' -bench=. -benchmem -timeout=8m ./internal/tagexpr/ >>"$OUT/sdk-micro.txt" 2>&1 || MICRO_OK=0
  go test -run='^$' -bench='^BenchmarkSendNoNetwork$' -benchmem -count=5 -timeout=8m . >>"$OUT/sdk-micro.txt" 2>&1 || MICRO_OK=0
  [ "$MICRO_OK" = 1 ] || note "The SDK's micro-benchmarks failed; their output is below."
else
  note "The SDK's micro-benchmarks were skipped (BENCH_SDK_MICRO=0)."
fi

log "benchstat"
{
  "$TOOLS/benchstat" -filter '/server:sink' -col /client "$OUT/results.txt" || true
  echo
  "$TOOLS/benchstat" -filter '/client:sdk' -col /server "$OUT/results.txt" || true
} >"$OUT/benchstat.txt" 2>&1

ELAPSED=$(($(date +%s) - START))
note "This run took ${ELAPSED}s, building included."
UPDATE_ARGS=()
if [ "$UPDATE" = 1 ]; then UPDATE_ARGS=(-update "$ROOT/BENCHMARKS.md"); fi
"$BIN/benchreport" -results "$OUT/results.txt" -benchstat "$OUT/benchstat.txt" \
  -emulator-bench "$OUT/emulator-bench.txt" -overhead "$OUT/overhead.txt" -overhead-benchtime "$OVER_BENCHTIME" \
  -sdk-micro "$OUT/sdk-micro.txt" -notes "$OUT/notes.txt" -out "$OUT/report.md" "${UPDATE_ARGS[@]}"
