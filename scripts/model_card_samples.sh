#!/usr/bin/env bash
# Prints the sample generations quoted in a tiny model's README.md (model card).
# Usage: scripts/model_card_samples.sh MODEL_DIR [GPTLENS_BINARY]
set -euo pipefail
dir=${1:?usage: scripts/model_card_samples.sh MODEL_DIR [GPTLENS_BINARY]}
bin=${2:-target/release/gptlens}
run() { echo "\$ gptlens generate $(printf '%q ' "$@")"; "$bin" --model "$dir" generate "$@"; echo; }
run --prompt "Once upon a time, there was a little" --temperature 0 --max-tokens 40
run --prompt "Tom and his dog went to the park." --temperature 0 --max-tokens 40
run --prompt "Once upon a time, there was a little" --temperature 0.8 --top-k 40 --seed 1 --max-tokens 60
run --prompt "Sara found a big red box. Inside the box" --temperature 0.8 --top-k 40 --seed 2 --max-tokens 60
