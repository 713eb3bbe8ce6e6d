"""What esp answers when a call cannot be served, as Python exceptions."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One bad value: its JSON path in the request (`evolution.population_size`,
    `population[3].metrics.score`) and why it was refused."""
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class EspError(Exception):
    """An answer espd refused to give: the HTTP status and the RFC 7807 problem's
    title, detail and, for validation errors, every bad value's JSON path."""

    def __init__(self, status: int, title: str, detail: str = "", issues: tuple[Issue, ...] = (),
                 request_id: str | None = None):
        self.status = status
        self.title = title
        self.detail = detail
        self.issues = tuple(issues)
        self.request_id = request_id
        lines = [f"{status} {title}" + (f": {detail}" if detail and detail != title else "")]
        lines += [f"  {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))

    @property
    def paths(self) -> list[str]:
        """The JSON paths of the values that were refused."""
        return [issue.path for issue in self.issues]


class AuthenticationError(EspError):
    """No token, a token espd does not accept (401), or one without the scope (403)."""


class NotFoundError(EspError):
    """No such experiment, checkpoint or operation among those this caller may see."""


class ConflictError(EspError):
    """The request conflicts with what is stored, e.g. another network under the same id."""


class OperationFailed(EspError):
    """A generation job ended without a population (failed or cancelled)."""


_BY_STATUS = {401: AuthenticationError, 403: AuthenticationError, 404: NotFoundError,
              409: ConflictError}


def error_from_problem(status: int, problem: dict | None, reason: str) -> EspError:
    """The exception for an error answer; `problem` is its problem+json body, if any."""
    problem = problem if isinstance(problem, dict) else {}
    issues = tuple(Issue(str(item.get("path", "")), str(item.get("reason", "")))
                   for item in problem.get("errors", []) if isinstance(item, dict))
    kind = _BY_STATUS.get(status, EspError)
    return kind(status, str(problem.get("title") or reason), str(problem.get("detail", "")), issues,
                problem.get("request_id"))
