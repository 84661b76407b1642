"""Every test folder of the monorepo gets the shared fixtures of `belay_testing.fixtures` (``testing/``)."""

pytest_plugins = ["belay_testing.fixtures"]
