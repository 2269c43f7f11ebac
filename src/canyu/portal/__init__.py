"""The portal: pages that show several domains together (a friend's profile)."""
