#!/usr/bin/env bash
# The packages the device image lacks, packed small enough to travel with the prepared device calls
# (lab/2026-12-04_gpu_flux_recipes/run.sh, lab/2026-12-04_gpu_pretrain_from_scratch/run.sh). The device tool carries
# at most 64 MiB in all, the tracked tree included (about 55 MiB); the plain wheels (bitsandbytes alone is 43 MB)
# do not fit beside it.
#   bash lab/2026-12-07_device_site/pack.sh     # here, where PyPI is reachable: writes .device/site.tar.xz
# Then call the device with carry [".device"]; the run scripts unpack it into /tmp/site, first on PYTHONPATH.
# Left out: bitsandbytes' libraries for other CUDA, ROCm and XPU versions (the image's torch is 2.11+cu130,
# KINDS.md), torchao's C++ extensions (built for another torch or Python: they do not load there, nor here, and
# float8 goes through torch._scaled_mm without them), tests and byte code. The image's own transformers (5.17),
# accelerate, safetensors and tokenizers stay: transformers 5.23 would not fit as well.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
PY=${PYTHON:-python3}
CUDA_LIB=${CUDA_LIB:-cuda130}
PKGS=(diffusers==0.42.1 peft==0.21.2 torchao==0.18.0 bitsandbytes==0.50.2 prodigyopt==1.1.2)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in "${PKGS[@]}"; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d "$tmp/whl" "$pkg"
done
"$PY" -m pip install -q --no-index --no-deps --no-compile --target "$tmp/site" "$tmp"/whl/*.whl
(
  cd "$tmp/site"
  find bitsandbytes -name 'libbitsandbytes_*.so' ! -name "libbitsandbytes_${CUDA_LIB}.so" \
    ! -name 'libbitsandbytes_cpu.so' -delete
  rm -f torchao/_C_*.so
  rm -rf test bin
  find . -name __pycache__ -prune -exec rm -rf {} +
)
mkdir -p .device
tar cJf .device/site.tar.xz.tmp -C "$tmp/site" . && mv .device/site.tar.xz.tmp .device/site.tar.xz
tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
pack=$(stat -c %s .device/site.tar.xz)
limit=$((64 * 1024 * 1024))
echo "packed ${PKGS[*]}: $((pack / 1024)) KiB; with the tracked tree $(( (tracked + pack) / 1024 / 1024 )) MiB of 64"
if [ $((tracked + pack)) -gt $limit ]; then
  echo "too large for the device tool: ignore or carry less" >&2
  exit 1
fi
