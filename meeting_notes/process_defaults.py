"""Process-wide defaults the heavy libraries read once, applied by the entry points (the CLI's
``main``, the one stage loop) rather than as a side effect of importing the package."""

from __future__ import annotations

import os

#: OpenMP threads that spin while waiting (the default of the libgomp under PyTorch) stall each
#: other when another busy process shares the cores: diarizing the 30 s sample with 2 threads ran
#: at 0.3x realtime beside a running LLM on 2 cores, and at 11.8x with waiting threads that sleep
#: instead. Read when torch or CTranslate2 loads; OMP_WAIT_POLICY=ACTIVE in the environment
#: restores spinning (a few percent faster on an otherwise idle machine).
DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE"}


def apply_process_defaults() -> None:
    """Set :data:`DEFAULTS` where the environment does not say otherwise. Call before the stages
    load torch or CTranslate2 (they import them only when a model is needed)."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)


__all__ = ["DEFAULTS", "apply_process_defaults"]
