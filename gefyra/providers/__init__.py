"""Providers: observe the world (by label only) and change it, one kind handler per resource kind.

A kind is added by adding a module that defines `KIND` (a `Kind` subclass instance) and optionally `HOOKS`
(post-start hooks), and listing it in `gefyra/providers/registry.py`. Planner and executor never change.
"""
