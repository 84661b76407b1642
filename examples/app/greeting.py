"""A module the demo syncs to the board and imports there."""


def greet(name):
    # Comments and docstrings are minified away on the way to the board.
    return "Hello, " + name + ", from the board!"
