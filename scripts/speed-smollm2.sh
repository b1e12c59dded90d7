#!/usr/bin/env bash
# SmolLM2-135M-Instruct (Q4_1 GGUF) decode speed, one run, three engines on
# the same file and the same 2 threads: gptlens, llama.cpp (through the
# llama-cpp-python package, its own perf counters) and PyTorch (transformers
# loading the GGUF with gguf_file=, dequantized to f32). Issue 15 point 6.
#
# Run it on an IDLE machine: llama.cpp's threads spin while they wait, so a
# busy core slows it fifty-fold (measured: 81-85 tokens/s idle, 1.5 busy).
#
#   scripts/speed-smollm2.sh                 # all three, ROUNDS rounds each, alternating
#   ENGINES=gptlens scripts/speed-smollm2.sh # just gptlens (no Python needed)
#
# Setup, once, outside the repository: scripts/fetch-smollm2.sh (the model);
# for llama.cpp a venv with llama-cpp-python, which builds llama.cpp from
# source (about 25 minutes on 2 cores):
#   python3 -m venv ~/llamavenv
#   CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON" \
#     nice -n 19 ~/llamavenv/bin/pip install llama-cpp-python
# and for PyTorch the reference venv of docs/reference.md (torch,
# transformers, gguf, accelerate). LLAMAPY and TORCHPY name their pythons
# (defaults ~/llamavenv/bin/python and ~/refvenv/bin/python; PY sets both).
#
# A quick check that every engine runs (not a measurement):
#   ROUNDS=1 TOKENS=4 scripts/speed-smollm2.sh
#
# Prints one line per engine and round, then the medians and the ratios
# gptlens/llama.cpp and gptlens/PyTorch: the lines the README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-2}"
TOKENS="${TOKENS:-64}"
ROUNDS="${ROUNDS:-3}"
ENGINES="${ENGINES:-gptlens llama.cpp pytorch}"
LLAMAPY="${LLAMAPY:-${PY:-$HOME/llamavenv/bin/python}}"
TORCHPY="${TORCHPY:-${PY:-$HOME/refvenv/bin/python}}"
MODEL="${GPTLENS_SMOLLM2:-$(scripts/fetch-smollm2.sh | tail -1)}"
[ -s "$MODEL" ] || { echo "no model at $MODEL: run scripts/fetch-smollm2.sh" >&2; exit 1; }
PROMPT="The capital of France is"
export RAYON_NUM_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

BIN=target/release/gptlens
cargo build --release --quiet   # a no-op when the binary is current

gptlens_run() {
  "$BIN" --model "$MODEL" bench --json --tokens "$TOKENS" --repeat 1 --prompt "$PROMPT" 2>/dev/null |
    python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["decode_tokens_per_s"])'
}

llamacpp_run() {
  "$LLAMAPY" - "$MODEL" "$THREADS" "$TOKENS" "$PROMPT" <<'EOF'
import sys
import numpy as np
import llama_cpp
from llama_cpp import Llama
path, threads, tokens, prompt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
m = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=512, verbose=False)
ids = m.tokenize(prompt.encode(), add_bos=False)
m.reset()
m.eval(ids)                      # prefill
llama_cpp.llama_perf_context_reset(m.ctx)
# Without logits_all, Llama.eval keeps no scores: read the last row itself.
last = lambda: np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(m.ctx, -1), shape=(m.n_vocab(),))
gen = []
for _ in range(tokens):          # greedy decode, one token per eval
    gen.append(int(last().argmax()))
    m.eval([gen[-1]])
p = llama_cpp.llama_perf_context(m.ctx)
print("llama.cpp continued: %r" % m.detokenize(gen).decode(errors="replace"), file=sys.stderr)
print("%.2f" % (p.n_eval / (p.t_eval_ms / 1000.0)))
EOF
}

pytorch_run() {
  "$TORCHPY" - "$MODEL" "$THREADS" "$TOKENS" "$PROMPT" <<'EOF'
import os, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
path, threads, tokens, prompt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
d, f = os.path.dirname(path), os.path.basename(path)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
ids = tok(prompt, return_tensors="pt").input_ids
with torch.no_grad():
    out = model(ids, use_cache=True)
    # transformers 5.2x renamed past_key_values to cache; take what it gives.
    kw = "cache" if "cache" in out.keys() else "past_key_values"
    past, nxt = out[kw], out.logits[:, -1].argmax(-1, keepdim=True)
    t = time.perf_counter()
    for _ in range(tokens):
        out = model(nxt, use_cache=True, **{kw: past})
        past, nxt = out[kw], out.logits[:, -1].argmax(-1, keepdim=True)
    dt = time.perf_counter() - t
print("%.2f" % (tokens / dt))
EOF
}

declare -A RUNS
for r in $(seq 1 "$ROUNDS"); do
  for e in $ENGINES; do
    case "$e" in
      gptlens) v=$(gptlens_run) ;;
      llama.cpp) v=$(llamacpp_run) ;;
      pytorch) v=$(pytorch_run) ;;
      *) echo "unknown engine $e (gptlens, llama.cpp, pytorch)" >&2; exit 2 ;;
    esac
    echo "round $r  $e  $v tokens/s"
    RUNS[$e]="${RUNS[$e]:-} $v"
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "SmolLM2-135M-Instruct Q4_1, $THREADS threads, $TOKENS decoded tokens, median of $ROUNDS:"
declare -A MED
for e in $ENGINES; do
  MED[$e]=$(echo "${RUNS[$e]}" | median)
  echo "  $e  ${MED[$e]} tokens/s"
done
for other in llama.cpp pytorch; do
  if [ -n "${MED[gptlens]:-}" ] && [ -n "${MED[$other]:-}" ]; then
    awk -v a="${MED[gptlens]}" -v b="${MED[$other]}" -v o="$other" 'BEGIN {printf "  gptlens / %s = %.2f\n", o, a / b}'
  fi
done
