"""Test support for the Belay monorepo: real emulated boards and local servers (not distributed).

The fixtures are in `belay_testing.fixtures`, the pytest plugin the root ``conftest.py`` loads.
"""
