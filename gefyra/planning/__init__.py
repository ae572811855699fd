"""Planning: desired + actual -> Plan. Pure: no I/O, deterministic, sorted."""
