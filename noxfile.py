"""Developer sessions: ``nox`` runs tests, lint and docs; ``nox -s bench`` runs the benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite against a private redis-server (the README's test command)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Generated code freshness, ruff and mypy --strict."""
    session.install("-e", ".[dev]")
    session.run("python", "scripts/unasync.py", "--check")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation with --strict."""
    session.install("-e", ".[dev]")
    session.run("mkdocs", "build", "--strict")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Every benchmark, each against its baseline in the same run (see docs/benchmarks.md)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)
