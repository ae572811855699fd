"""Resources: the engine's vocabulary (kind + name identity, canonical spec, spec hash, labels)."""
