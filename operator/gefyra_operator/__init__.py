"""The gefyra Operator (kopf). `kopf run --standalone --namespace gefyra -m gefyra_operator.handlers`.

Never importable as `operator` (that would shadow the standard library): the package is `gefyra_operator`.
"""
