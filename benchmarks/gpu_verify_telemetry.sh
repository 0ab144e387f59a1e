#!/usr/bin/env bash
# Verify GPU telemetry and `trtsweep doctor` on a real NVIDIA GPU (issue #16), in one go.
#
#   PYTHONPATH=/path/to/nvidia_ml_py_unpacked:$PWD OUT=/tmp/out bash benchmarks/gpu_verify_telemetry.sh
#   bash benchmarks/gpu_verify_telemetry.sh --fake      # CPU path: the fake NVML of the tests, no GPU
#
# What it does (no network needed):
#  1. `trtsweep doctor` (text and --format json);
#  2. a small sweep through the trtexec double (3 variants, 1 repeat) on GPU $GPU, each RUN step loading
#     the GPU with a PyTorch bf16 matmul for $LOAD_S s (TRTEXEC_DOUBLE_GPU_LOAD=1);
#  3. while the 2nd RUN step runs, a second GPU process started on purpose (not a child of trtsweep);
#  4. prints every step's telemetry summary and the checks of the issue (clocks ramp from idle, the
#     power-cap reason under load, our process never foreign, the second process foreign), then copies
#     one telemetry.json, doctor.json, diagnose output and all steps' telemetry to $OUT.
# Needs: python3 with the trtsweep dependencies, torch with CUDA (for real load), nvidia-ml-py importable
# as `pynvml` (e.g. the wheel unpacked on PYTHONPATH). Exit 0 when every check that could run passed.
set -u
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/gpu-verify-out}"
GPU="${GPU:-0}"
LOAD_S="${LOAD_S:-6}"
FAKE=0
[ "${1:-}" = "--fake" ] && FAKE=1
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/trtsweep-gpu-verify.XXXXXX")"
trap 'kill "${FOREIGN_PID:-0}" 2>/dev/null; rm -rf "$WORK"' EXIT
PY="${PYTHON:-python3}"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export TRTEXEC="$REPO/tests/trtexec_double/trtexec"   # the double; the real nvidia-smi stays on PATH
export TRTEXEC_DOUBLE_GPU_LOAD=1 TRTEXEC_DOUBLE_GPU_LOAD_S="$LOAD_S"
export TRTSWEEP_TELEMETRY_HZ="${TRTSWEEP_TELEMETRY_HZ:-10}"
unset CUDA_VISIBLE_DEVICES
if [ "$FAKE" = 1 ]; then
  # The fake replays the constructed H200 power-cap stream in real time; pids listed in FAKE_NVML_PROCS
  # (the double's load and the second process register themselves) are its compute processes.
  export PYTHONPATH="$REPO/tests/fake_nvml:$PYTHONPATH"
  "$PY" - "$REPO/tests/fixtures/telemetry/h200_powercap.json" "$WORK/stream.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1])); doc["gpus"][0]["stream"].update(advance="time", loop=True)
json.dump(doc, open(sys.argv[2], "w"))
EOF
  export FAKE_NVML_STREAM="$WORK/stream.json" FAKE_NVML_PROCS="$WORK/procs"
  : > "$FAKE_NVML_PROCS"
fi

say() { printf '\n=== %s\n' "$*"; }
say "environment"
"$PY" -c "import sys; print('python', sys.version.split()[0])"
"$PY" -c "import pynvml; print('pynvml', getattr(pynvml, '__file__', '?'), 'FAKE' if getattr(pynvml, 'FAKE', False) else '')" \
  || echo "pynvml NOT importable: telemetry will say 'not available' (set PYTHONPATH to nvidia-ml-py)"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.device_count())" \
  2>/dev/null || echo "torch not importable: the double sleeps instead of loading the GPU"
command -v nvidia-smi >/dev/null && nvidia-smi -L && nvidia-smi --query-gpu=index,name,clocks.sm,clocks.max.sm,power.draw,power.limit,clocks_event_reasons.active --format=csv

say "trtsweep doctor"
"$PY" -m trtsweep.cli doctor; echo "doctor exit status: $?"
"$PY" -m trtsweep.cli doctor --format json > "$OUT/doctor.json"; echo "doctor.json written (exit $?)"

say "sweep through the double, GPU $GPU, ${LOAD_S}s of load per run step"
cat > "$WORK/sweep.yaml" <<EOF
models:
  - name: tracker
    onnx: "$REPO/examples/models/tracker.onnx"
    inputs:
      images: {shape: [batch, 3, 128, 64]}
matrix:
  precision: [fp32]
  shapes: [dynamic]
  batch: [1, 2, 4]
run: {warmup_ms: 0, iterations: 5, duration_s: 0, avg_runs: 1, percentiles: [50, 99], timeout_s: 120}
EOF
GPUS_ARG=()
command -v nvidia-smi >/dev/null && [ "$FAKE" = 0 ] && GPUS_ARG=(--gpus "$GPU")
sleep "${IDLE_S:-5}"   # let the GPU fall idle, so the first step shows the ramp from idle clocks
"$PY" -m trtsweep.cli run "$WORK/sweep.yaml" -o "$WORK/run" "${GPUS_ARG[@]}" > "$WORK/run.out" 2>&1 &
SWEEP_PID=$!
# Start the second process once the 2nd RUN step has started (two run folders with a pid file or status).
for _ in $(seq 1 600); do
  n=$(ls -d "$WORK"/run/runs/*/ 2>/dev/null | wc -l)
  [ "$n" -ge 2 ] && break
  kill -0 "$SWEEP_PID" 2>/dev/null || break
  sleep 0.1
done
sleep 1
CUDA_VISIBLE_DEVICES="$GPU" setsid "$PY" "$REPO/tests/trtexec_double/tdouble_gpuload.py" --seconds 4 \
  --out "$WORK/foreign.json" > /dev/null 2>&1 &
FOREIGN_PID=$!
echo "second GPU process started on purpose: pid $FOREIGN_PID (sweep pid $SWEEP_PID)"
wait "$SWEEP_PID"; RC=$?
wait "$FOREIGN_PID" 2>/dev/null
cat "$WORK/run.out"; echo "run exit status: $RC"
"$PY" -m trtsweep.cli diagnose "$WORK/run" > "$OUT/diagnose.txt" 2>&1
"$PY" -m trtsweep.cli diagnose "$WORK/run" --format json > "$OUT/diagnose.json" 2>/dev/null
"$PY" -m trtsweep.cli report "$WORK/run" -o "$OUT/report" > /dev/null 2>&1 && echo "report: $OUT/report/index.html"

say "telemetry summaries and checks"
"$PY" - "$WORK/run" "$OUT" "$FOREIGN_PID" <<'EOF'
import json, shutil, sys
from pathlib import Path
run, out, foreign_pid = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
steps = sorted(p.parent for p in run.glob("*/*/telemetry.json"))
(out / "steps").mkdir(exist_ok=True)
checks, keep = {}, None
for step in steps:
    doc = json.loads((step / "telemetry.json").read_text())
    s = doc["summary"]
    shutil.copy(step / "telemetry.json", out / "steps" / f"{step.parent.name}-{step.name}.telemetry.json")
    load = step / "gpuload.json"
    print(f"\n{step.parent.name}/{step.name}")
    if not s.get("available"):
        print("  telemetry:", s.get("status"), "-", s.get("reason"))
        continue
    print("  device:", s["device"].get("name"), s["device"].get("uuid"), "|", s["device"].get("matched_by"))
    print(f"  samples {s['samples']} (busy {s['busy_samples']}) over {s['duration_s']} s at {s['rate_hz']} Hz")
    print("  SM clock MHz (busy):", s["sm_clock_mhz"], "max", s["max_sm_clock_mhz"], "| idle:", s["idle_sm_clock_mhz"])
    print("  power W (busy):", s["power_w"], "limit", s["power_limit_w"], "| temp C:", s["temperature_c"])
    print("  reason shares:", s["reasons"], "| throttle:", s["throttle"])
    ours = sorted({p["pid"] for p in doc["processes"] if p["kind"] == "ours"})
    print("  ours:", ours, "| foreign:", [(p["pid"], p["name"]) for p in s["foreign_processes"]],
          "| unresolved:", [p["pid"] for p in s["unresolved_processes"]])
    if load.is_file():
        info = json.loads(load.read_text())
        print("  double's load:", info)
        checks.setdefault("our load process seen as ours, never foreign", []).append(
            info["pid"] in ours and info["pid"] not in {p["pid"] for p in s["foreign_processes"]})
    if step.parent.name == "runs":
        col = doc["columns"]
        rows = [dict(zip(col, r)) for r in doc["samples"]]
        first = [r["sm_mhz"] for r in rows[:3] if r["sm_mhz"] is not None]
        top = max((r["sm_mhz"] or 0) for r in rows) if rows else 0
        print("  first samples:", [(r["t_s"], r["sm_mhz"], r["power_w"], r["reasons"]) for r in rows[:12]])
        checks.setdefault("clocks ramp from idle (a first sample < 60 % of the step's highest)", []).append(
            bool(first) and min(first) < 0.6 * top)
        checks.setdefault("software power cap (0x4) seen under load", []).append("sw_power_cap" in s["reasons"])
        seen = foreign_pid in {p["pid"] for p in s["foreign_processes"]}
        checks.setdefault("the second process reported as foreign", []).append(seen)
        if seen or keep is None:
            keep = step
print()
verdict = 0
for name, values in checks.items():
    ok = any(values) if name.startswith(("clocks ramp", "software power", "the second")) else all(values)
    print(("PASS " if ok else "FAIL ") + name + f"  ({sum(values)} of {len(values)} steps)")
    verdict |= 0 if ok else 1
if keep is not None:
    shutil.copy(keep / "telemetry.json", out / "telemetry.json")
    print(f"kept {keep.relative_to(run)}/telemetry.json as {out / 'telemetry.json'}")
if not checks:
    print("FAIL no telemetry was recorded (is nvidia-ml-py on PYTHONPATH?)")
    verdict = 1
sys.exit(verdict)
EOF
CHECKS=$?
[ -f "$WORK/foreign.json" ] && echo "second process: $(cat "$WORK/foreign.json")"
cp "$WORK/run.out" "$OUT/run.out" 2>/dev/null
echo "outputs in $OUT"
exit $(( RC != 0 || CHECKS != 0 ))
