"""Domain errors.

Every error a user can cause is an :class:`InputError`: its message names the file, the
row and the column, what was expected and what was found. The CLI prints it and exits
with status 2; no traceback is shown for these.
"""

from __future__ import annotations

from pathlib import Path


class OptimizerError(Exception):
    """Base class of every error the package raises on purpose."""


class InputError(OptimizerError, ValueError):
    """A user error in an input file, an option or an argument.

    >>> str(InputError("expected a number", file="units.csv", row=3, column="cost", found="abc"))
    "units.csv: row 3, column 'cost': expected a number, found 'abc'"
    >>> str(InputError("expected a positive number", option="--budget", found=-1))
    "option '--budget': expected a positive number, found -1"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | str | None = None,
        column: str | None = None,
        found: object = None,
        option: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.found = found
        self.option = option
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.option is not None:
            where.append(f"option {self.option!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = self.message
        if self.found is not None:
            found = self.found
            if type(found).__module__ == "numpy" and hasattr(found, "item"):
                found = found.item()  # show 3, not np.int64(3)
            text += f", found {found!r}"
        if where:
            text = ", ".join(where) + ": " + text
        if self.file is not None:
            text = f"{self.file}: " + text
        return text


class InputErrors(InputError):
    """Several input errors found at once (a validator that reports every problem)."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        OptimizerError.__init__(self, self._format())
        self.message = self._format()
        self.file = self.row = self.column = self.found = self.option = None

    def _format(self) -> str:
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  - {e}" for e in self.errors)])


class InfeasibleError(OptimizerError):
    """A scenario that has no feasible solution; ``explanation`` says what to relax."""

    def __init__(self, message: str, explanation: dict | None = None) -> None:
        self.explanation = explanation or {}
        super().__init__(message)


class SolverError(OptimizerError):
    """The solver failed (not a limit, not infeasibility): a bug or a broken install."""
