"""The package manager's ``belay`` commands, each imported only when it runs."""
