"""The one settings object: env vars, TOML file, and docs/configuration.md documenting every field."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pydantic import BaseModel

from meeting_notes.settings import PROJECT_ROOT, Settings


def _settings_table_script():
    spec = importlib.util.spec_from_file_location("settings_table", PROJECT_ROOT / "scripts" / "settings_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_table_is_generated_from_the_settings_model() -> None:
    script = _settings_table_script()
    doc = script.DOC.read_text(encoding="utf-8")
    assert doc.count(script.START) == 1 and doc.count(script.END) == 1
    assert script.doc_with_table(doc) == doc, (
        "docs/configuration.md settings table is stale: run .venv/bin/python scripts/settings_table.py"
    )
    # every leaf field is a row, nested groups included
    assert "`MEETING_NOTES_ALIGNMENT__MAX_DRIFT_S`" in doc and "`MEETING_NOTES_LLM__LOCAL_THREADS`" in doc
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/configuration.md" in readme, "the README links the settings reference"


def test_env_vars_override_nested_fields(monkeypatch) -> None:
    monkeypatch.setenv("MEETING_NOTES_DIARIZATION__CLUSTERING_THRESHOLD", "0.55")
    monkeypatch.setenv("MEETING_NOTES_DEVICE", "cpu")
    s = Settings()
    assert s.diarization.clustering_threshold == 0.55 and s.device == "cpu"


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "mn.toml"
    cfg.write_text('language = "ja"\n[asr]\nbeam_size = 2\n[alignment]\nmax_pause_s = 2.5\n')
    monkeypatch.setenv("MEETING_NOTES_CONFIG", str(cfg))
    monkeypatch.setenv("MEETING_NOTES_ASR__BEAM_SIZE", "3")
    s = Settings()
    assert s.language == "ja" and s.alignment.max_pause_s == 2.5 and s.asr.beam_size == 3
