"""Make: intelligent editing (silence removal, highlight reels, reframing, captions, loudness, editor export)."""
