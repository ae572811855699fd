"""Renderers: plans and events as text for people or JSON for machines. console.py is the only printer."""
