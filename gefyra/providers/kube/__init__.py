"""The Kubernetes provider: one typed API boundary, one snapshot by label, and the cluster-side kinds."""
