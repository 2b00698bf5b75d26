"""What every settings section shares: the project root and the small literal types."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parents[2]

Device = Literal["auto", "cpu", "cuda"]
Language = Literal["auto", "en", "ja"]
