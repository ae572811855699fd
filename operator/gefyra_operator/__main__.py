"""`python -m gefyra_operator`: kopf, standalone (one replica, no peering objects), watching the gefyra
namespace only (GEFYRA_NAMESPACE)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    from kopf.cli import main as kopf_main

    namespace = os.environ.get("GEFYRA_NAMESPACE", "gefyra")
    args = ["run", "--standalone", "--namespace", namespace, "-m", "gefyra_operator.handlers", *sys.argv[1:]]
    kopf_main(args=args, prog_name="gefyra-operator")


if __name__ == "__main__":
    main()
