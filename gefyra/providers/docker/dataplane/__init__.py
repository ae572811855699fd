"""The data plane on Docker: the engine-side helpers the kinds call.

- images:  image names (tagged by the build context's hash) and the cached builder `ensure_images`
- files:   put secrets into containers as mode-600 files (never env, labels or command lines)
- cargo:   start Cargo with a peer config and wait for its tunnel
- gateway: make Cargo the default gateway of a network namespace from outside it
- sync:    copy a Carrier's rsync module into a local folder through the tunnel
"""
