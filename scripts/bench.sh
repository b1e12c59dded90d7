#!/usr/bin/env bash
# Side-by-side decode benchmark: gptlens against PyTorch (transformers
# GPT2LMHeadModel, fp32, 2 threads, KV cache) on the same machine, same prompt,
# same number of greedy tokens, alternating the two so that a burst of load on
# the machine hits both alike. Prints medians, the ratio and the CPU.
#
#   REFPY=/path/to/venv/bin/python scripts/bench.sh
#
# Environment: REFPY (a python with torch + transformers, see scripts/reference.py;
# default python3), ROUNDS (default 3), TOKENS_SMALL (default 64),
# TOKENS_TINY (default 128), GPT2_TOKENIZER (GPT-2's tokenizer.json; default
# ../shared/data/gpt2-tokenizer/tokenizer.json beside the clone).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REFPY="${REFPY:-python3}"
ROUNDS="${ROUNDS:-3}"
TOKENS_SMALL="${TOKENS_SMALL:-64}"
TOKENS_TINY="${TOKENS_TINY:-128}"
if [[ -z "${GPT2_TOKENIZER:-}" ]]; then
    for c in "$ROOT/../shared/data/gpt2-tokenizer/tokenizer.json" "$ROOT/../../shared/data/gpt2-tokenizer/tokenizer.json"; do
        [[ -f "$c" ]] && GPT2_TOKENIZER="$c" && break
    done
fi
if [[ ! -f "${GPT2_TOKENIZER:-}" ]]; then
    echo "error: GPT-2's tokenizer.json not found; set GPT2_TOKENIZER=/path/to/tokenizer.json" >&2
    exit 1
fi
if ! "$REFPY" -c "import torch, transformers" 2>/dev/null; then
    echo "error: $REFPY cannot import torch and transformers; make a venv as scripts/reference.py's header says and set REFPY" >&2
    exit 1
fi

cargo build --release --quiet
BIN="$ROOT/target/release/gptlens"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "making a GPT-2-small-shaped random model (12 layers, 12 heads, 768 wide, vocab 50257)..." >&2
"$BIN" init --layers 12 --heads 12 --embd 768 --vocab 50257 --ctx 1024 --seed 1 \
    --tokenizer "$GPT2_TOKENIZER" --out "$WORK/gpt2-small" 2>/dev/null
if [[ -f "$ROOT/tiny-models/tinystories/config.json" ]]; then
    TINY="$ROOT/tiny-models/tinystories"
else
    "$BIN" init --layers 4 --heads 4 --embd 128 --vocab 2048 --ctx 256 --seed 1 --out "$WORK/tiny" 2>/dev/null
    TINY="$WORK/tiny"
fi

RESULTS="$WORK/results.jsonl"
run() { # label engine model tokens
    local out
    if [[ "$2" == gptlens ]]; then
        out="$("$BIN" --model "$3" bench --tokens "$4" --json)"
    else
        out="$("$REFPY" "$ROOT/scripts/reference.py" bench-decode --model "$3" --tokens "$4" --json 2>/dev/null)"
    fi
    echo "{\"shape\": \"$1\", \"engine\": \"$2\", \"result\": $out}" >>"$RESULTS"
    echo "round $r  $1  $2  $out" >&2
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    run gpt2-small gptlens "$WORK/gpt2-small" "$TOKENS_SMALL"
    run gpt2-small pytorch "$WORK/gpt2-small" "$TOKENS_SMALL"
    run tiny gptlens "$TINY" "$TOKENS_TINY"
    run tiny pytorch "$TINY" "$TOKENS_TINY"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo "PyTorch: $("$REFPY" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
echo "tiny model: $TINY"
"$REFPY" - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'shape':<11} {'engine':<8} {'decode tok/s':>13} {'prefill ms':>11}  runs (decode tok/s)")
med = {}
for shape in ("gpt2-small", "tiny"):
    for engine in ("gptlens", "pytorch"):
        rs = [r["result"] for r in rows if r["shape"] == shape and r["engine"] == engine]
        tps = [r["decode_tokens_per_s"] for r in rs]
        pre = [r["prefill_ms"] for r in rs]
        med[shape, engine] = (statistics.median(tps), statistics.median(pre))
        print(f"{shape:<11} {engine:<8} {med[shape, engine][0]:>13.1f} {med[shape, engine][1]:>11.2f}  "
              + ", ".join(f"{t:.1f}" for t in tps))
for shape in ("gpt2-small", "tiny"):
    g, p = med[shape, "gptlens"], med[shape, "pytorch"]
    print(f"{shape}: gptlens/PyTorch decode {g[0] / p[0]:.2f}x, prefill {p[1] / g[1]:.2f}x faster")
EOF
