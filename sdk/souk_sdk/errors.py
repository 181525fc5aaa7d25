"""The one error type of the dev kit: a message for people and the exit code of the command."""

from __future__ import annotations

#: The plugin failed: a build error, a module that does not validate, a call that did not end `ok`,
#: a replay whose output differs.
EXIT_FAILED = 1
#: The command cannot run: a missing file, bad JSON, an unknown point, a missing toolchain.
EXIT_USAGE = 2


class DevKitError(Exception):
    """A command failed; `message` says what happened and what to do, `exit_code` is 1 or 2."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
