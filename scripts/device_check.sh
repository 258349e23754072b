#!/usr/bin/env bash
# The checks that need a GPU, as one command for the device machine (a lent NVIDIA GPU with PyTorch, no
# registry, no browser): the device tests (tests/test_device.py and the CUDA-only tests elsewhere), the flow
# core's speed on the GPU against the peers (bench_speed.py --device cuda) and FlowPlayer's kernel-side
# recompute on the GPU at 10k and 100k points (bench_widget.py --no-browser). Results go to $OUT: 8 files, the
# most the device tool brings back.
#
# Before the call, here: bash scripts/device_wheels.sh && (cd js && npm run build)
# The call (device tool), carrying the wheels and the built front end:
#   run(command="bash scripts/device_check.sh", carry=[".whl", "flowviz/static"], timeout_s=560)  # steps capped at 120 + 200 + 2 x 90 s
# A dry run on a CPU machine (checks this script and the tests' own code, not a device):
#   FLOWVIZ_DEVICE=cpu OUT=/tmp/device-out bash scripts/device_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
DEV=${FLOWVIZ_DEVICE:-cuda}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ] && ! $PY -c "import anywidget, zuko, normflows, nflows" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "installing .whl failed"; exit 1; }
  export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
ls flowviz/static/*.js >/dev/null 2>&1 || { echo "flowviz/static has no bundle: build js/ here and carry flowviz/static"; exit 1; }
{
  date -u; nvidia-smi -L 2>&1 || true
  $PY -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
} | tee "$OUT/device.txt"
[ "$DEV" = cpu ] && export FLOWVIZ_TEST_DEVICES=cpu
status=0
echo "== device tests"
timeout 120 $PY -m pytest -q -rs -p no:cacheprovider tests/test_device.py tests/test_data.py::test_sample_on_cuda_matches_cpu \
  tests/test_expr.py::test_cuda_device 2>&1 | tee "$OUT/device-tests.log" || status=1
echo "== bench_speed --device $DEV"
timeout 200 $PY benchmarks/bench_speed.py --device "$DEV" ${SPEED_ARGS:-} --out "$OUT/speed-$DEV.json" 2>&1 \
  | tee "$OUT/speed-$DEV.log" | tail -40 || status=1
for n in 10000 100000; do
  echo "== bench_widget --no-browser --device $DEV --kernel-points $n"
  timeout 90 $PY benchmarks/bench_widget.py --no-browser --device "$DEV" --kernel-points "$n" \
    --out "$OUT/widget-kernel-$DEV-$n.json" 2>&1 | tail -6 || status=1
done
exit $status
