"""The Operator's package lives in operator/ (never importable as `operator`): put that folder on the path."""

from __future__ import annotations

import sys
from pathlib import Path

OPERATOR_DIR = str(Path(__file__).resolve().parents[2] / "operator")
if OPERATOR_DIR not in sys.path:
    sys.path.insert(0, OPERATOR_DIR)
