"""Reusable pieces of the portal's pages: layout shell, results, light curve, cutouts."""
