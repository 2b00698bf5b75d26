"""The one settings object: env vars, TOML file, and docs/configuration.md documenting every field."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from meeting_notes.settings import (
    PROJECT_ROOT,
    ClusteringSettings,
    DiarizationSettings,
    MultiscaleSettings,
    Settings,
    SpeakerSettings,
)


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
    monkeypatch.setenv("MEETING_NOTES_DIARIZATION__CLUSTERING__THRESHOLD", "0.55")
    monkeypatch.setenv("MEETING_NOTES_DIARIZATION__MULTISCALE__WINDOW_S", "0")
    monkeypatch.setenv("MEETING_NOTES_DEVICE", "cpu")
    s = Settings()
    assert s.diarization.clustering.threshold == 0.55 and s.device == "cpu"
    assert s.diarization.multiscale.window_s == 0.0 and s.diarization.multiscale.hop_s == 0.5


def test_renamed_flat_diarization_settings_are_refused_with_the_new_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEETING_NOTES_DIARIZATION__CLUSTERING_THRESHOLD", "0.55")
    with pytest.raises(ValidationError, match=r"clustering_threshold was renamed diarization\.clustering\.threshold "
                       r"\(environment variable MEETING_NOTES_DIARIZATION__CLUSTERING__THRESHOLD\)"):
        Settings()
    monkeypatch.delenv("MEETING_NOTES_DIARIZATION__CLUSTERING_THRESHOLD")
    cfg = tmp_path / "mn.toml"
    cfg.write_text("[diarization]\nmin_cluster_size = 4\nmultiscale_window_s = 0.0\n")
    monkeypatch.setenv("MEETING_NOTES_CONFIG", str(cfg))
    with pytest.raises(ValidationError, match="min_cluster_size was renamed diarization.clustering.min_cluster_size"):
        Settings()
    cfg.write_text("[diarization.clustering]\nmin_cluster_size = 4\n[diarization.multiscale]\nwindow_s = 0.0\n")
    s = Settings()
    assert s.diarization.clustering.min_cluster_size == 4 and s.diarization.multiscale.window_s == 0.0


def test_clustering_settings_keep_their_defaults() -> None:
    c, m = DiarizationSettings().clustering, DiarizationSettings().multiscale
    assert (c.method, c.threshold, c.min_cluster_size, c.max_speakers, c.merge_threshold, c.max_p_ratio, c.min_silhouette,
            c.refine_iterations, c.constrained_assignment, c.max_embeddings, c.center, c.min_p, c.window_lower_bound) == (
        "agglomerative", 0.75, 12, 10, 0.5, 0.25, 0.1, 0, True, 1500, False, 2, 2)
    assert (c.pval, c.min_pnum, c.seed) == (0.012, 6, 0)
    assert (m.window_s, m.hop_s, m.min_alone, m.merge_threshold, m.min_cluster_size, m.vote_weight, m.long_weight,
            m.frame_relabel) == (1.0, 0.5, 0.6, 0.75, 6, 0.5, 0.0, True)


def test_diarization_cache_key_follows_the_nested_clustering_settings(tmp_path: Path) -> None:
    from meeting_notes.context import MeetingContext, ProcessOptions
    from meeting_notes.schema import AudioInfo
    from meeting_notes.stages.transcript import diarize_params
    from meeting_notes.workspace import MeetingWorkspace

    def params(diarization: DiarizationSettings) -> dict:
        settings = Settings(cache_dir=tmp_path, diarization=diarization, speakers=SpeakerSettings(store_path=tmp_path / "s.sqlite"))
        audio = AudioInfo(path="x.wav", sha256="0" * 64, duration=1)
        return diarize_params(MeetingContext(Path("x.wav"), audio, MeetingWorkspace(tmp_path / "m"), ProcessOptions(), settings))

    base = params(DiarizationSettings())
    assert base == params(DiarizationSettings())
    assert base["diarization"]["clustering"]["threshold"] == 0.75
    assert params(DiarizationSettings(clustering=ClusteringSettings(threshold=0.7))) != base
    assert params(DiarizationSettings(clustering={"constrained_assignment": False})) != base
    assert params(DiarizationSettings(multiscale=MultiscaleSettings(vote_weight=0.25))) != base


def test_toml_file_is_read_and_env_wins(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "mn.toml"
    cfg.write_text('language = "ja"\n[asr]\nbeam_size = 2\n[alignment]\nmax_pause_s = 2.5\n')
    monkeypatch.setenv("MEETING_NOTES_CONFIG", str(cfg))
    monkeypatch.setenv("MEETING_NOTES_ASR__BEAM_SIZE", "3")
    s = Settings()
    assert s.language == "ja" and s.alignment.max_pause_s == 2.5 and s.asr.beam_size == 3
