"""The data plane's pure part: models and renderers of Cargo, Stowaway and Carrier configs (no I/O; an
import-linter contract keeps it so).

- models:       typed data exchanged with Stowaway's control API and handed to the renderers
- render:       config renderers (Cargo's WireGuard file, dnsmasq, Carrier's nginx, app DNS settings)
- cargo_layout: facts about the Cargo image and its fixed address on a project network
- archive:      tar archives of small files built in memory

The Docker side (start Cargo, route apps, copy files, build images) is gefyra.providers.docker.dataplane;
the client of Stowaway's control API is gefyra.stowaway.
"""
