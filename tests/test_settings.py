"""The one settings object: env vars, TOML file, and the README documenting every field."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from meeting_notes.settings import PROJECT_ROOT, Settings


def _env_names(model: type[BaseModel], prefix: str = "MEETING_NOTES_") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names += _env_names(ann, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [n for n in _env_names(Settings) if f"`{n}`" not in readme]
    assert not missing, f"settings missing from README: {missing}"


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
