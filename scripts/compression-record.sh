#!/usr/bin/env bash
# Writes tiny-models/tinystories/compression.tsv, the record the
# `compression` lesson reads: what each format and each pruning sparsity
# costs the built-in model in accuracy, measured with `gptlens eval
# --reference` on the first 200,000 characters of the validation stories
# (the figures of README.md's Compression section). Accuracy does not depend
# on speed, so this can run on a busy machine (it takes a few CPU-minutes).
#
#   scripts/compression-record.sh [VALID_TEXT]
#
# VALID_TEXT defaults to ../shared/corpus/tinystories_valid.txt beside the clone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TEXT="${1:-$ROOT/../shared/corpus/tinystories_valid.txt}"
[[ -f "$TEXT" ]] || { echo "error: no validation text at $TEXT; give its path" >&2; exit 1; }
BIN="${GPTLENS:-$ROOT/target/release/gptlens}"
[[ -x "$BIN" ]] || cargo build --release --quiet
REF="$ROOT/tiny-models/tinystories"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
OUT="$REF/compression.tsv"
row() { # what setting bits model
    "$BIN" --model "$4" eval --text "$TEXT" --chars 200000 --reference "$REF" --json |
        python3 -c '
import json, sys
v = json.load(sys.stdin); r = v["reference"]
print("\t".join([sys.argv[1], sys.argv[2], sys.argv[3], "%.6f" % v["perplexity"],
      "%.6g" % r["perplexity_change"], "%.6g" % r["mean_kl"], "%.6g" % r["top1_agreement"]]))
' "$1" "$2" "$3"
}
{
    echo "# The built-in model against itself (f32), quantized, and pruned, on the first 200,000 characters"
    echo "# of tinystories_valid.txt: gptlens --model M eval --text tinystories_valid.txt --chars 200000"
    echo "# --reference tiny-models/tinystories --json, M made by gptlens quantize --type T or prune --sparsity S."
    echo "# Written by scripts/compression-record.sh; read by the compression lesson (compress.* placeholders)."
    printf 'what\tsetting\tbits_per_weight\tperplexity\tperplexity_change\tmean_kl\ttop1_agreement\n'
    row quant F32 32 "$REF"
    for t in q8_0 q4_1 q4_0; do
        "$BIN" --model "$REF" quantize --type "$t" --out "$WORK/$t.gguf" 2>/dev/null
        bits="$(case $t in q8_0) echo 8.5;; q4_1) echo 5;; q4_0) echo 4.5;; esac)"
        row quant "$(tr a-z A-Z <<<"$t")" "$bits" "$WORK/$t.gguf"
    done
    for s in 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9; do
        "$BIN" --model "$REF" prune --sparsity "$s" --out "$WORK/p$s" 2>/dev/null
        row prune "$s" 32 "$WORK/p$s"
    done
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT" >&2
