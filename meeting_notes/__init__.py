"""Sales-meeting recordings to speaker-attributed transcripts and CRM-ready notes."""

import os as _os

# OpenMP threads that spin while waiting (the default of the libgomp under PyTorch) stall each
# other when another busy process shares the cores: diarizing the 30 s sample with 2 threads
# ran at 0.3x realtime beside a running LLM on 2 cores, and at 11.8x with waiting threads that
# sleep instead. Set before torch or CTranslate2 load; OMP_WAIT_POLICY=ACTIVE in the
# environment restores spinning (a few percent faster on an otherwise idle machine).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
