"""The data plane: Cargo, Stowaway and Carrier images, their configs, and the helpers the engine kinds call.

- render:    pure config renderers (Cargo's WireGuard file, dnsmasq, Carrier's nginx, app DNS settings)
- images:    image names and the content-hash cached builder `ensure_images`
- stowaway:  typed client of Stowaway's control API
- files:     put secrets into containers as mode-600 files (never env, labels or command lines)
- cargo:     start Cargo with a peer config and wait for its tunnel
- gateway:   make Cargo the default gateway of an app container from outside it
"""
