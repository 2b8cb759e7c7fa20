"""Find: one index of moments over every stored analysis document, searched by words, image and face."""
