"""The image task (task=image): its data.py and model.py, and the rendered project's own tests.

data.py is imported from a real render (shapes and folder), so these tests check the code users
get: the folder loader on PNG files written here, normalisation statistics from the training
split only, augmentation on the training split only, predict's input path, and one-line errors.
The last tests run the rendered projects' own pytest, as a user would after `scaffold new`.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import torch
from helpers import PYTHON, child_env, write_project

from scaffold.options import resolve_answers

Image = pytest.importorskip("PIL.Image")


def render_and_import(dest, **answers):
    """Render an image project into `dest` and import its data, model and train modules.

    The modules are taken out of sys.modules again (they keep working), so the shapes and the
    folder render can be imported side by side under the same names.
    """
    write_project(dest, resolve_answers({"task": "image", **answers}))
    names = ("data", "model", "train")
    sys.path.insert(0, str(dest))
    try:
        for name in ("config", *names):  # config.py too: each render has its own Config
            sys.modules.pop(name, None)
        modules = [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(str(dest))
        for name in ("config", *names):
            sys.modules.pop(name, None)
    return (*modules, dest)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """(data, model, train, dest) of `scaffold new --set task=image` (the shapes demo)."""
    return render_and_import(tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """(data, model, train, dest) of `--set task=image --set data=folder`."""
    return render_and_import(tmp_path_factory.mktemp("folder"), data="folder")


def png(path, size=(12, 12), mode="RGB", colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour if mode == "RGB" else colour[0]).save(path)
    return path


# --- the built-in demo ------------------------------------------------------------------------
def test_demo_shapes_are_seeded_uint8_images_in_every_class(shapes):
    data, _, train, _ = shapes
    images, labels = data.make_shapes(20, 16, 0.1, seed=3)
    again, _ = data.make_shapes(20, 16, 0.1, seed=3)
    other, _ = data.make_shapes(20, 16, 0.1, seed=4)
    assert images.dtype == torch.uint8 and images.shape == (20 * len(data.SHAPES), 3, 16, 16)
    assert torch.equal(images, again) and not torch.equal(images, other)
    assert torch.bincount(labels).tolist() == [20] * len(data.SHAPES)
    assert list(data.SHAPES) == sorted(data.SHAPES)  # the order a folder of them would load in


def test_demo_colour_is_no_shortcut(shapes):
    """The mean colour of an image says nothing about its class: the shape is lighter or darker
    than the background by a coin flip, so every class averages to the same grey."""
    data, _, train, _ = shapes
    images, labels = data.make_shapes(400, 16, 0.1, seed=0)
    mean_colour = images.double().mean(dim=(2, 3)) / 255  # (N, 3)
    per_class = torch.stack([mean_colour[labels == k].mean(dim=0) for k in range(6)])
    assert (per_class - per_class.mean(dim=0)).abs().max() < 0.03


# --- the split, normalisation and augmentation -------------------------------------------------
def test_statistics_come_from_the_training_split_only(shapes):
    """info's mean/std are those of the training images; with the validation images counted too
    they would differ (so this test fails on a data.py that normalises with all the images)."""
    data, _, train, _ = shapes
    cfg = train.Config(samples_per_class=40, image_size=12, batch_size=8)
    train_set, val_set, info = data.build_datasets(cfg)
    assert len(train_set) + len(val_set) == 240 and len(val_set) == 48

    def stats(images):
        pixels = images.double().div(255).transpose(0, 1).flatten(1)
        return pixels.mean(dim=1), pixels.std(dim=1, unbiased=False)

    mean, std = stats(train_set.images)
    torch.testing.assert_close(info.inference["mean"].double(), mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(info.inference["std"].double(), std, atol=1e-6, rtol=0)
    everything, _ = stats(torch.cat([train_set.images, val_set.images]))
    assert (everything - mean).abs().max() > 1e-4, "the split is too small to tell them apart"


def test_augmentation_applies_to_the_training_split_only(shapes):
    data, _, train, _ = shapes
    cfg = train.Config(samples_per_class=10, image_size=12, batch_size=8, crop_padding=3, flip=True)
    train_set, val_set, info = data.build_datasets(cfg)
    mean, std = (info.inference[key].view(-1, 1, 1) for key in ("mean", "std"))
    assert torch.equal(val_set[0][0], (val_set.images[0].float() / 255 - mean) / std)
    assert all(torch.equal(val_set[0][0], val_set[0][0]) for _ in range(10))
    torch.manual_seed(0)
    draws = [train_set[0][0] for _ in range(30)]
    assert len({draw.numpy().tobytes() for draw in draws}) > 5  # crops and flips vary
    torch.manual_seed(0)
    assert all(torch.equal(draw, train_set[0][0]) for draw in draws)  # from torch's generator
    plain = data.build_datasets(train.Config(**{**vars(cfg), "crop_padding": 0, "flip": False}))[0]
    assert all(torch.equal(plain[0][0], plain[0][0]) for _ in range(5))


# --- the image folder ------------------------------------------------------------------------
def test_folder_loader_reads_classes_in_sorted_order(folder, tmp_path):
    data, _, train, _ = folder
    root = tmp_path / "images"
    png(root / "zebra" / "a.png", colour=(0, 0, 0))
    png(root / "zebra" / "nested" / "b.PNG", size=(40, 20), colour=(255, 255, 255))  # not square
    png(root / "ant" / "c.jpg", mode="L", colour=(128,))  # grey: becomes 3 channels
    png(root / "ant" / ".hidden.png")
    (root / "ant" / "notes.txt").write_text("not an image")
    images, labels, classes = data.load_folder(str(root), 8)
    assert classes == ["ant", "zebra"] and labels.tolist() == [0, 1, 1]
    assert images.shape == (3, 3, 8, 8) and images.dtype == torch.uint8
    assert images[0].unique().tolist() == [128] and images[2].unique().tolist() == [255]


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "does not exist"),
        ({"cat/a.png": "png"}, "1 class sub-folder(s); a classifier needs at least 2"),
        ({"cat/a.png": "png", "dog/readme.txt": "text"}, "'dog' holds no images"),
        ({"cat/a.png": "png", "dog/b.png": "garbage"}, "cannot read image"),
    ],
)
def test_bad_folders_are_one_line_data_errors(folder, tmp_path, layout, message):
    data, _, _, _ = folder
    root = tmp_path / "images"
    for name, kind in layout.items():
        path = root / name
        if kind == "png":
            png(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG not really" if kind == "garbage" else b"hello")
    with pytest.raises(data.DataError) as error:
        data.load_folder(str(root), 8)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_folder_project_trains_and_reports_bad_data_in_one_line(folder, tmp_path):
    data, _, _, dest = folder
    data.write_demo_folder(str(dest / "data" / "images"), samples_per_class=8, image_size=12)
    run = dict(cwd=dest, env=child_env(), capture_output=True, text=True, timeout=300)
    flags = ["--epochs", "1", "--image-size", "12", "--width", "4", "--no-progress"]
    done = subprocess.run([PYTHON, "train.py", *flags], **run)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"best_val_acc"' in done.stdout
    missing = subprocess.run([PYTHON, "train.py", *flags, "--image-folder", "nowhere"], **run)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "error: --image-folder nowhere does not exist: expected one sub-folder of images per class"
    ]


# --- predict's input path and the model -------------------------------------------------------
def test_predict_inputs_are_normalised_like_validation(shapes, tmp_path):
    data, _, train, _ = shapes
    cfg = train.Config(samples_per_class=5, image_size=12, batch_size=8)
    _, val_set, info = data.build_datasets(cfg)
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(val_set.images[i].permute(1, 2, 0).numpy()).save(paths[-1])
    assert torch.equal(
        data.load_inputs(paths, info), torch.stack([val_set[i][0] for i in range(3)])
    )
    with pytest.raises(data.DataError, match="is a folder"):
        data.load_inputs([str(tmp_path)], info)
    with pytest.raises(data.DataError, match="cannot read image"):
        data.load_inputs([str(tmp_path / "absent.png")], info)


def test_resnet_small_returns_logits_at_any_small_size(shapes):
    data, model, train, _ = shapes
    for size in (8, 12, 32):
        info = data.DataInfo((3, size, size), 6, "val_acc", "max")
        for batchnorm in (True, False):
            net = model.build_model(
                train.Config(image_size=size, batchnorm=batchnorm, blocks=2), info
            )
            assert net(torch.randn(2, 3, size, size)).shape == (2, 6)
            has_norm = any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
            assert has_norm == batchnorm


def test_torchvision_arch_is_refused_in_one_line_when_missing(shapes):
    data, model, train, _ = shapes
    info = data.DataInfo((3, 16, 16), 6, "val_acc", "max")
    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(data.DataError, match="pip install torchvision"):
            model.build_model(train.Config(arch="resnet18"), info)
    else:
        assert model.build_model(train.Config(arch="resnet18"), info)(
            torch.randn(2, 3, 32, 32)
        ).shape == (2, 6)
        with pytest.raises(data.DataError, match="no such classification model"):
            model.build_model(train.Config(arch="not_a_model"), info)


# --- the rendered projects' own tests ---------------------------------------------------------
@pytest.mark.parametrize("answers", [{}, {"data": "folder"}], ids=["shapes", "folder"])
def test_image_project_passes_its_own_tests(tmp_path, answers):
    """`scaffold new DEST --set task=image [--set data=folder]`, then `pytest` in DEST."""
    dest = write_project(tmp_path / "p", resolve_answers({"task": "image", **answers}))
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
        cwd=dest,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:]
