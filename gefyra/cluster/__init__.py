"""The cluster side as pure data, shared by the client and the Operator (no I/O, no client library).

- names:    the API group, fixed object names, label and annotation keys of gefyra's cluster objects
- crds:     pydantic models of GefyraClient and GefyraBridge (spec and status) and their CRD manifests
- install:  the install manifests (namespace, CRDs, RBAC, Operator, Stowaway) and their YAML rendering
- rbac:     the Operator's rules and the per-client Role
"""
