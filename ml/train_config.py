"""ml.train.TrainConfig, the training recipe's settings and their defaults, in a module that
loads no torch: the web process resolves a retrain's config with it (tests/test_architecture.py:
the web loads no torch) and settings.py checks a deployment's choices against it."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BACKBONE = "efficientnet_lite0"  # see ml.backbones.BACKBONES
# sim_only_weight's value when left to the data (None) and they are simulated and real both:
# half each (docs/real_benchmark.md, "The average becomes the default"; swept from 0 to 1 on
# the tune part afterwards and kept, "The average's weight").
AUTO_SIM_ONLY_WEIGHT = 0.5


@dataclass
class TrainConfig:
    backbone: str = DEFAULT_BACKBONE  # see ml.backbones.BACKBONES
    pretrained: bool = True  # start from ImageNet weights (False: random init, "scratch")
    weights_path: str | None = None  # ImageNet weights file (needed by the torchvision backbones)
    encoding: str = "rgb-durations"  # how the durations become 3 channels (ml.encoding)
    image_size: int = 224  # images are S x S pixels
    head_only: bool = False  # frozen ImageNet features + logistic regression, no fine-tuning
    epochs: int = 10  # passes over the training set
    batch_size: int = 64  # images per optimiser step
    optimizer: str = "adamw"  # adamw | adam | adagrad (the paper: adagrad, lr 1e-4)
    lr: float = 1e-3  # peak learning rate of the backbone (3e-4, 2e-3: worse on real glitches,
    # bench/real.py, docs/real_benchmark.md)
    head_lr_scale: float = 10.0  # the new head learns this much faster (it starts from random)
    weight_decay: float = 0.01  # decoupled for adamw, L2 for adam/adagrad
    warmup_fraction: float = 0.05  # share of all steps with a linear lr ramp, then cosine to 0
    dropout: float = 0.2  # before the new linear head
    label_smoothing: float = 0.0  # cross-entropy label smoothing
    bn_momentum: float = 0.1  # BatchNorm running-stat momentum (Lite ships 0.01: adapts too slowly)
    recalibrate_bn: bool = True  # first set BatchNorm statistics from the training images
    augment: bool = True  # random shifts and zoom (the paper), energy and resolution jitter
    augment_axes: str = "x"  # "x": shift/zoom in time only (y is frequency: a shift moves it)
    max_shift: int = 10  # max shift in pixels at 224 px (scaled with image_size)
    max_zoom: float = 0.05  # zoom factor drawn from [1 - max_zoom, 1 + max_zoom]
    energy_jitter: float = 0.25  # energy x gain, ^gamma, each in exp(+-this) (energy encodings)
    min_resolution: float = 0.7  # rendered at down to this scale and back (600x450, JPEG blur)
    view_dropout: float = 0.6  # share of images shown as if one view was all there was (0.3 until
    # 2026-12-02: 0.6 kept real glitches of a class with no real training example far better,
    # bench/real.py --class-out; docs/real_benchmark.md)
    self_train: float = 0.9  # with a pool: its glitches the first model is this sure of join
    # > 0: also a model trained on the simulated glitches alone (OUT/sim-only), whose
    # probabilities take this weight in every prediction (ml.model.load_model). It keeps a
    # lone real glitch of a class without real training examples from being pulled to the
    # real-rich classes (bench/real.py --class-out; docs/real_benchmark.md). 0: off. None
    # (the default since 2026-12-07): AUTO_SIM_ONLY_WEIGHT when the training glitches are
    # simulated and real both, else off (ml.train.resolve_sim_only_weight).
    sim_only_weight: float | None = None
    sampling: str = "class-source"  # uniform | class | class-source (see ml.train.SAMPLINGS)
    head_c: float = 1.0  # inverse L2 strength of the head-only logistic regression
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 where supported) | bf16 | fp32
    channels_last: bool = True  # NHWC memory format when running bf16 (faster convolutions)
    compile: bool = False  # torch.compile the training forward/backward (CUDA: ~40% faster)
    cudnn_benchmark: bool = False  # autotune convs; each new batch shape costs seconds (Lite: ~20)
    eval_batch_size: int = 256  # images per inference batch (validation, features)
    val_fraction: float = 0.2  # share of each class (and source) that validates (by the caller)
    seed: int = 0  # seeds the split, init of the head, batch order, augmentation and dropout
