"""`gefyra watch`: apply, then re-apply on config edits, watched paths and drift (debounced)."""
