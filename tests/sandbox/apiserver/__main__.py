"""`python -m tests.sandbox.apiserver`: run the sandbox API server until SIGTERM."""

from .serve import main

main()
