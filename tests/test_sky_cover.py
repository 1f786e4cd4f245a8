"""The pixels a cross-match reads: every pixel a source's circle reaches, few others."""
import numpy as np
import pytest

from store.sky import block_pairs, pixels


@pytest.mark.parametrize("radius_arcsec", [0.5, 1.5, 5.0])
def test_block_pairs_hold_the_pixel_of_every_point_within_the_radius(radius_arcsec):
    rng = np.random.default_rng(int(radius_arcsec * 10))
    n, k = 3000, 40
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))  # the whole sphere, poles and base-cell borders included
    r = radius_arcsec / 3600
    pix, src = block_pairs(ra, dec, r, 14)
    have = set(zip(pix.tolist(), src.tolist()))
    ang = rng.uniform(0, 2 * np.pi, (n, k))
    rad = r * np.sqrt(rng.uniform(0, 1, (n, k)))
    rad[:, :15] = r * (1 - 1e-9)  # on the rim, where a missing neighbour would show
    ddec = rad * np.sin(ang)
    dra = rad * np.cos(ang) / np.cos(np.radians(dec))[:, None]
    near = pixels((ra[:, None] + dra).ravel(), (dec[:, None] + ddec).ravel(), 14).reshape(n, k)
    missing = [(i, int(p)) for i in range(n) for p in set(near[i].tolist()) if (p, i) not in have]
    assert missing == []
    assert all((int(p), i) in have for i, p in enumerate(pixels(ra, dec, 14)))  # its own pixel, always
    assert len(pix) / n < (2.0 if radius_arcsec <= 1.5 else 4.0)  # far fewer than the block's 9
