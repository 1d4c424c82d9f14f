#!/usr/bin/env bash
# Builds `--features cuda` on a machine WITHOUT a GPU or CUDA install (e.g. to run the binaries on
# a separate GPU machine): assembles a CUDA 13.0 toolkit from NVIDIA's PyPI wheels in $KIT
# (default /opt/cudakit) and prints what to source. What it makes:
#   bin/nvcc & co, include/, lib/ from the wheels (unversioned .so links added);
#   lib/stubs/libcuda.so: a link-only stub exporting the driver symbols cudarc 0.9 binds (the
#     real libcuda.so.1 comes with the GPU machine's driver);
#   fakebin/nvidia-smi: answers dfdx's build script with compute capability $CAP (default 9.0).
# Then: source $KIT/env.sh && cargo build --release --features cuda
# Run time on the GPU machine: LD_LIBRARY_PATH must hold libnvrtc.so.13 (+ libnvrtc-builtins),
# libcublas.so.13 and libcublasLt.so.13, and two build-time paths baked in by dfdx must exist
# there: $KIT/include (CUDA headers, for kernels NVRTC compiles at run time) and dfdx's build
# OUT_DIR holding its four .cuh files (dfdx-0.13.0/src/tensor_ops/utilities/*.cuh). docs/cuda.md.
set -euo pipefail
KIT=${KIT:-/opt/cudakit}
CAP=${CAP:-9.0}
WHEELS=$(mktemp -d)
python3 -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" \
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-runtime==13.0.96 \
  nvidia-cuda-nvrtc==13.0.88 nvidia-cublas==13.0.2.14 nvidia-cuda-cccl==13.0.85
mkdir -p "$KIT"
for w in "$WHEELS"/*.whl; do
  tmp=$(mktemp -d); (cd "$tmp" && python3 -m zipfile -e "$w" .); cp -a "$tmp"/nvidia/cu13/. "$KIT"/; rm -rf "$tmp"
done
chmod +x "$KIT"/bin/* "$KIT"/nvvm/bin/* 2>/dev/null || true
cd "$KIT/lib"
for so in libcublas libcublasLt libnvrtc libcudart; do
  real=$(ls $so.so.* 2>/dev/null | head -1); [ -n "$real" ] && ln -sfn "$real" $so.so
done
cd "$KIT"; ln -sfn lib lib64; mkdir -p targets/x86_64-linux; ln -sfn ../../include targets/x86_64-linux/include; ln -sfn ../../lib targets/x86_64-linux/lib
SYS=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.9.15/src/driver/sys.rs | head -1)
mkdir -p lib/stubs stubsrc
grep -o 'pub fn cu[A-Za-z0-9_]*' "$SYS" | sort -u | sed 's/pub fn \(.*\)/int \1(void) { return 999; }/' > stubsrc/libcuda_stub.c
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o lib/stubs/libcuda.so stubsrc/libcuda_stub.c
mkdir -p fakebin
printf '#!/bin/sh\necho compute_cap\necho %s\n' "$CAP" > fakebin/nvidia-smi; chmod +x fakebin/nvidia-smi
cat > env.sh <<ENV
export PATH="$KIT/fakebin:$KIT/bin:\$PATH" CUDA_ROOT="$KIT" CUDA_PATH="$KIT" CUDA_COMPUTE_CAP=${CAP/./}
export LIBRARY_PATH="$KIT/lib:$KIT/lib/stubs\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
ENV
rm -rf "$WHEELS"
echo "CUDA kit in $KIT: source $KIT/env.sh && cargo build --release --features cuda"
