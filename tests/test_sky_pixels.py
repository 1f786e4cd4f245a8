"""``store.sky.pixels`` calls cdshealpix's compiled module without astropy (issue 19: the
ingest's memory); its pixels must be those of cdshealpix's public, astropy-based function."""
import math

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Latitude, Longitude
from cdshealpix.nested import lonlat_to_healpix

from store.sky import pixels


def public(ra, dec, order):
    return lonlat_to_healpix(Longitude(np.atleast_1d(ra) * u.deg), Latitude(np.atleast_1d(dec) * u.deg),
                             order).astype(np.int64)


@pytest.mark.parametrize("order", [0, 5, 14, 29])
def test_random_positions_give_the_public_functions_pixels(order):
    rng = np.random.default_rng(order)
    ra = rng.uniform(0, 360, 20000)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 20000)))
    got = pixels(ra, dec, order)
    assert got.dtype == np.int64
    assert np.array_equal(got, public(ra, dec, order))


def test_edge_positions_give_the_public_functions_pixels():
    tiny = np.nextafter(0.0, 1.0)
    ra = [0.0, -0.0, 360.0, np.nextafter(360.0, 0.0), -1e-17, -tiny, 359.9999999999, 720.5, -10.0,
          0.0, 123.4, 45.0, 90.0, 180.0, 270.0, 12.0, 12.0, 200.0, 10.0]
    dec = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -45.0, 5.0, 0.0,
           90.0, 90.0, -90.0, np.nextafter(90.0, 0.0), -np.nextafter(90.0, 0.0), 41.8103148958, -41.8103148958,
           tiny, -0.0, 89.9999999]
    for order in (0, 14, 29):
        assert pixels(ra, dec, order).tolist() == public(ra, dec, order).tolist()
    assert pixels(360.0, 0.0, 14).tolist() == pixels(0.0, 0.0, 14).tolist()


def test_scalars_and_lists():
    assert pixels(10.0, -20.0, 14).tolist() == public(10.0, -20.0, 14).tolist()
    assert len(pixels([], [], 14)) == 0


@pytest.mark.parametrize("ra, dec", [(0.0, 90.0000001), (0.0, -91.0), (0.0, math.inf), (0.0, math.nan),
                                     (math.nan, 0.0), (math.inf, 0.0)])
def test_a_position_off_the_sphere_is_refused(ra, dec):
    with pytest.raises(ValueError):
        pixels([1.0, ra], [2.0, dec], 14)


def test_shapes_must_match():
    with pytest.raises(ValueError):
        pixels([1.0, 2.0], [3.0], 14)
