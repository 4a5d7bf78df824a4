#!/usr/bin/env bash
# One GPU check: the device, then a short colab_gpu.yaml-shaped run (4-bit nf4, bf16 where supported, LoRA on
# q/v, 10 SFT and 10 DPO steps) on a small model, 32 test prompts answered and judged, then tokens/s, peak GPU
# memory and the warnings the run raised. On CPU it stops at once with a message (exit 3).
#
#   scripts/gpu_check.sh <model path or hub id> [out folder, default runs/gpu_check_out]
#   e.g. scripts/gpu_check.sh Qwen/Qwen2.5-0.5B
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
MODEL=${1:?usage: scripts/gpu_check.sh <model path or hub id> [out folder]}
OUT=${2:-runs/gpu_check_out}

"$PYTHON" -m librachem_utils.eval.gpu_check device
PARAMS=$("$PYTHON" -m librachem_utils.eval.gpu_check params --model "$MODEL" --out "$OUT")
mkdir -p "$OUT"
started=$(date +%s)
"$PYTHON" -m librachem_utils.steps 01,02,03,04,05 --params "$PARAMS" --no-progress 2>&1 | tee "$OUT/steps.log"
echo "total: $(( $(date +%s) - started )) s"
"$PYTHON" -m librachem_utils.eval.gpu_check report --params "$PARAMS" --log "$OUT/steps.log"
