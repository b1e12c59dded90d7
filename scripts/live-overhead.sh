#!/usr/bin/env bash
# What watching a run costs (issue 17 point 1): the same seeded classroom run
# with and without `--live`, alternated, on the same threads. The live run
# draws into a detached tmux pane of SIZE (default 200x60), as a projector
# would show it. Prints each run's training time (train-summary.json's
# elapsed_secs, validation included, the same on both sides) and the live
# run's own CPU-time line, then the medians and the slow-down.
#
# Run it on an IDLE machine (wall time is measured): nothing else building.
#
#   scripts/live-overhead.sh                 # 3 rounds of 1000 steps
#   ROUNDS=1 STEPS=100 scripts/live-overhead.sh   # a quick check, not a measurement
#
# Needs tmux and the TinyStories text (CORPUS, default ../shared/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
STEPS="${STEPS:-1000}"
SIZE="${SIZE:-200x60}"
CORPUS="${CORPUS:-../shared/corpus}"
command -v tmux >/dev/null || { echo "tmux is needed: apt-get install tmux" >&2; exit 1; }
[ -s "$CORPUS/tinystories_train.txt" ] || { echo "no $CORPUS/tinystories_train.txt: set CORPUS" >&2; exit 1; }
cargo build --release --quiet
BIN="$PWD/target/release/gptlens"
WORK="$(mktemp -d)"
trap 'tmux kill-session -t gptlens-overhead 2>/dev/null || true; rm -rf "$WORK"' EXIT
ARGS=(train --preset classroom --steps "$STEPS" --lang en
  --corpus "$CORPUS/tinystories_train.txt" --valid "$CORPUS/tinystories_valid.txt")

elapsed() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["elapsed_secs"])' "$1/train-summary.json"; }

plain=() live=()
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/plain" "$WORK/live"
  "$BIN" "${ARGS[@]}" --out "$WORK/plain" >/dev/null 2>"$WORK/plain.err"
  p=$(elapsed "$WORK/plain")
  tmux new-session -d -s gptlens-overhead -x "${SIZE%x*}" -y "${SIZE#*x}" \
    "$BIN ${ARGS[*]} --live --out $WORK/live 2>$WORK/live.err; echo done > $WORK/live.end; sleep 30"
  # The screen stays up when training ends ("training finished: q leaves").
  until tmux capture-pane -p -t gptlens-overhead 2>/dev/null | grep -q "training finished"; do
    [ -f "$WORK/live.end" ] && { echo "the live run ended early:" >&2; cat "$WORK/live.err" >&2; exit 1; }
    sleep 0.5
  done
  tmux send-keys -t gptlens-overhead q
  until [ -f "$WORK/live.end" ]; do sleep 0.2; done
  tmux kill-session -t gptlens-overhead
  rm -f "$WORK/live.end"
  l=$(elapsed "$WORK/live")
  cost=$(grep "the live view used" "$WORK/live.err" || echo "(no cost line)")
  echo "round $r: plain ${p} s, live ${l} s; $cost"
  plain+=("$p") live+=("$l")
done
python3 - "${plain[*]}" "${live[*]}" <<'EOF'
import statistics, sys
p = [float(x) for x in sys.argv[1].split()]
l = [float(x) for x in sys.argv[2].split()]
mp, ml = statistics.median(p), statistics.median(l)
print(f"median: plain {mp:.2f} s, live {ml:.2f} s: the live view slows the run by {100 * (ml / mp - 1):+.1f}%")
EOF
