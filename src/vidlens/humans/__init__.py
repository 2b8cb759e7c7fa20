"""Digital humans: a person's likeness and voice, registered with a consent record, found in media."""
