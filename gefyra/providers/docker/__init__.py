"""The Docker provider: one snapshot by label, idempotent actions, and the `network` and `container` kinds."""
