"""A cutout's PNG: its pixels are the stretched stamp through matplotlib's colour map, north up,
whether the colour map is built for this call or kept from an earlier one (``to_png`` keeps
one per name: the registry builds a new copy at each lookup), and whatever threads render at once."""
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib import colormaps
from PIL import Image

from science import cutout_image
from science.cutout_image import normalise, to_png


def stamp(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.normal(100.0, 5.0, (63, 63))
    data[30:34, 28:33] += 400.0  # a source
    data[0, :3] = np.nan           # masked pixels, as real stamps have
    return data


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def expected(data, stretch, colormap, kernel=None) -> np.ndarray:
    fresh = colormaps[colormap]  # a new copy from the registry, its table built now
    return (fresh(np.flipud(normalise(data, stretch, kernel=kernel))) * 255).astype(np.uint8)


@pytest.mark.parametrize("colormap,stretch,kernel", [("Greys_r", "sigmoid", None), ("viridis", "log", None),
                                                     ("magma_r", "linear", "gauss"), ("Greys_r", "sqrt", "box")])
def test_pixels_are_the_stretched_stamp_through_the_colour_map_every_time(colormap, stretch, kernel):
    data = stamp(1)
    for _ in range(3):  # the first call builds the colour map, the next ones reuse it
        got = pixels(to_png(data, stretch, colormap, kernel=kernel))
        np.testing.assert_array_equal(got, expected(data, stretch, colormap, kernel))


def test_the_colour_map_is_built_once_a_name_and_unknown_names_are_refused():
    assert cutout_image._colormap("cividis") is cutout_image._colormap("cividis")
    assert colormaps["cividis"] is not colormaps["cividis"]  # what the cache saves: a copy a lookup
    with pytest.raises(KeyError):
        to_png(stamp(2), colormap="no_such_map")


def test_threads_rendering_at_once_give_the_pixels_one_thread_gives():
    cutout_image._colormap.cache_clear()  # every thread meets colour maps not built yet
    jobs = [(seed, name) for seed in range(6) for name in ("plasma", "inferno_r", "Greys_r", "cubehelix")]
    with ThreadPoolExecutor(8) as pool:
        pngs = list(pool.map(lambda job: to_png(stamp(job[0]), "sigmoid", job[1]), jobs))
    for (seed, name), png in zip(jobs, pngs):
        np.testing.assert_array_equal(pixels(png), expected(stamp(seed), "sigmoid", name))
