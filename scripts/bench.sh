#!/usr/bin/env bash
# Side-by-side decode benchmark: gptlens against PyTorch (transformers
# GPT2LMHeadModel, fp32, 2 threads, KV cache) on the same machine, same prompt,
# same number of greedy tokens, alternating the two so that a burst of load on
# the machine hits both alike. The GPT-2-small-shaped model (random, made with
# `gptlens init`) runs in gptlens at f32 and, quantized with `gptlens
# quantize`, at Q8_0 and Q4_0; each round also measures the memory read
# bandwidth (`gptlens bench --bandwidth`), so that each format's ceiling
# (weight bytes per token ÷ bandwidth) is printed beside its speed. Prints
# medians, the ratios to PyTorch and the CPU.
#
#   REFPY=/path/to/venv/bin/python scripts/bench.sh
#
# Environment: REFPY (a python with torch + transformers, see scripts/reference.py;
# default python3), ROUNDS (default 3), TOKENS_SMALL (default 64),
# TOKENS_TINY (default 128), GPT2_TOKENIZER (GPT-2's tokenizer.json; default
# ../shared/data/gpt2-tokenizer/tokenizer.json beside the clone), BANDWIDTH_MIB
# (the buffer the bandwidth pass reads, default 1024), SMALL_SHAPE (the init
# flags of the "gpt2-small" model, default GPT-2 small's; only to check the
# script quickly, e.g. SMALL_SHAPE="--layers 2 --heads 2 --embd 64 --vocab 50257 --ctx 128").
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

SMALL_SHAPE="${SMALL_SHAPE:---layers 12 --heads 12 --embd 768 --vocab 50257 --ctx 1024}"
BANDWIDTH_MIB="${BANDWIDTH_MIB:-1024}"
echo "making a GPT-2-small-shaped random model ($SMALL_SHAPE) and its Q8_0 and Q4_0 GGUFs..." >&2
# shellcheck disable=SC2086
"$BIN" init $SMALL_SHAPE --seed 1 \
    --tokenizer "$GPT2_TOKENIZER" --out "$WORK/gpt2-small" 2>/dev/null
for q in q8_0 q4_0; do
    "$BIN" --model "$WORK/gpt2-small" quantize --type "$q" --out "$WORK/gpt2-small-$q.gguf" 2>/dev/null
done
if [[ -f "$ROOT/tiny-models/tinystories/config.json" ]]; then
    TINY="$ROOT/tiny-models/tinystories"
else
    "$BIN" init --layers 4 --heads 4 --embd 128 --vocab 2048 --ctx 256 --seed 1 --out "$WORK/tiny" 2>/dev/null
    TINY="$WORK/tiny"
fi

RESULTS="$WORK/results.jsonl"
run() { # label engine model tokens
    local out
    if [[ "$2" == gptlens* ]]; then
        out="$("$BIN" --model "$3" bench --tokens "$4" --json 2>/dev/null)"
    else
        out="$("$REFPY" "$ROOT/scripts/reference.py" bench-decode --model "$3" --tokens "$4" --json 2>/dev/null)"
    fi
    echo "{\"shape\": \"$1\", \"engine\": \"$2\", \"result\": $out}" >>"$RESULTS"
    echo "round $r  $1  $2  $(grep -o '"decode_tokens_per_s": *[0-9.]*' <<<"$out")" >&2
}

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    bw="$("$BIN" bench --bandwidth --mib "$BANDWIDTH_MIB" --json)"
    echo "{\"shape\": \"memory\", \"engine\": \"bandwidth\", \"result\": $bw}" >>"$RESULTS"
    echo "round $r  bandwidth  $bw" >&2
    run gpt2-small gptlens "$WORK/gpt2-small" "$TOKENS_SMALL"
    run gpt2-small pytorch "$WORK/gpt2-small" "$TOKENS_SMALL"
    run gpt2-small gptlens-q8_0 "$WORK/gpt2-small-q8_0.gguf" "$TOKENS_SMALL"
    run gpt2-small gptlens-q4_0 "$WORK/gpt2-small-q4_0.gguf" "$TOKENS_SMALL"
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
bw_runs = [r["result"]["bandwidth_gb_per_s"] for r in rows if r["engine"] == "bandwidth"]
bw = statistics.median(bw_runs)
print(f"memory read bandwidth (gptlens bench --bandwidth, both cores): {bw:.1f} GB/s median; runs "
      + ", ".join(f"{b:.1f}" for b in bw_runs))
print(f"{'shape':<11} {'engine':<13} {'decode tok/s':>13} {'prefill ms':>11} {'MB/token':>9} {'ceiling':>8} {'of ceil':>7}  runs (decode tok/s)")
med, bpt = {}, {}
for shape in ("gpt2-small", "tiny"):
    engines = ("gptlens", "gptlens-q8_0", "gptlens-q4_0", "pytorch") if shape == "gpt2-small" else ("gptlens", "pytorch")
    for engine in engines:
        rs = [r["result"] for r in rows if r["shape"] == shape and r["engine"] == engine]
        tps = [r["decode_tokens_per_s"] for r in rs]
        pre = [r["prefill_ms"] for r in rs]
        med[shape, engine] = (statistics.median(tps), statistics.median(pre))
        if "bytes_per_token" in rs[0]:
            bpt[shape, engine] = rs[0]["bytes_per_token"]
        # PyTorch fp32 reads what gptlens f32 reads.
        b = bpt.get((shape, engine), bpt.get((shape, "gptlens")))
        ceil = bw * 1e9 / b
        print(f"{shape:<11} {engine:<13} {med[shape, engine][0]:>13.1f} {med[shape, engine][1]:>11.2f} "
              f"{b / 1e6:>9.1f} {ceil:>8.1f} {med[shape, engine][0] / ceil:>7.0%}  "
              + ", ".join(f"{t:.1f}" for t in tps))
for shape in ("gpt2-small", "tiny"):
    p = med[shape, "pytorch"]
    for engine in [e for (s, e) in med if s == shape and e != "pytorch"]:
        g = med[shape, engine]
        print(f"{shape}: {engine}/PyTorch fp32 decode {g[0] / p[0]:.2f}x, prefill {p[1] / g[1]:.2f}x faster")
EOF
