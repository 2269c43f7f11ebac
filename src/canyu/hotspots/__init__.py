"""Free Wi-Fi hotspots: open data and owners' claims, friends' confirmations, near-me queries,
signed offline packs per region (H3 cell), one-tap connect artefacts."""
