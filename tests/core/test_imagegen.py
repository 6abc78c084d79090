"""The photo-like generator the size tests rely on: exact sizes, the same bytes per seed, real-photo entropy."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import imagegen
import pytest
from imagegen import MB


@pytest.mark.parametrize("build", [imagegen.photo_jpeg, imagegen.photo_png])
def test_photos_have_the_exact_size_decode_and_are_deterministic_by_seed(build: Callable[..., bytes]) -> None:
    for size in (int(0.1 * MB), MB + 7):
        data = build(size, seed=11)
        assert len(data) == size
        image = imagegen.decode(data)
        assert image.width > image.height > 100
        imagegen._photo.cache_clear()  # made again, not remembered
        assert build(size, seed=11) == data
        assert build(size, seed=12) != data


def test_photos_are_as_incompressible_as_real_ones() -> None:
    for data in (imagegen.photo_jpeg(MB, seed=1), imagegen.photo_png(MB, seed=1)):
        assert len(zlib.compress(data, 6)) > 0.95 * len(data)
    smooth = imagegen.jpeg(1600, 1200)  # what the older tests used: a few KB whatever its dimensions
    assert len(smooth) < 0.1 * MB


def test_too_small_a_photo_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4096 bytes"):
        imagegen.photo_jpeg(1000)
