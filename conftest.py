"""Every test folder of the monorepo gets the shared fixtures of `belay_testing.fixtures` (``testing/``).

And pytester, for belay-pytest's tests.
"""

pytest_plugins = ["belay_testing.fixtures", "pytester"]
