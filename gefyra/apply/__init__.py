"""Applying a plan: the executor walks the step DAG; events report what happened; a lock keeps one apply per
project."""
