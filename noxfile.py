"""Developer sessions: ``nox`` runs tests, lint and docs; ``nox -s bench`` runs the benchmarks."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True  # a skipped minimums run proves nothing


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


#: What ``minimums`` runs: the I/O-free core, the batcher and loop tests, the embedded store
#: (pyroaring) and the cohort rendering (jinja2).
MINIMUM_TESTS = (
    "tests/core",
    "tests/asyncio_only/test_batcher.py",
    "tests/asyncio_only/test_loops.py",
    "tests/_async/test_embedded.py",
    "tests/test_cohort_render.py",
)


def declared_minimums() -> list[str]:
    """Every runtime requirement in pyproject.toml, with the ``numpy`` and ``dashboard``
    extras, pinned to its declared minimum (``name>=x`` becomes ``name==x``)."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open("pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    extras = project["optional-dependencies"]
    pins = []
    for requirement in [*project["dependencies"], *extras["numpy"], *extras["dashboard"]]:
        name, sep, version = requirement.partition(">=")
        if not sep or "," in version:
            raise ValueError(f"declare a plain minimum (name>=x): {requirement!r}")
        pins.append(f"{name}=={version}")
    return pins


@nox.session(python="3.10", default=False)
def minimums(session: nox.Session) -> None:
    """The core, batcher and loop tests on exactly the declared minimum of every dependency,
    on the oldest Python supported (pyproject.toml's ``requires-python``)."""
    pins = declared_minimums()
    session.install("pytest", "pytest-asyncio", "pytest-timeout", "hypothesis")
    session.install(*pins)
    session.install("--no-deps", "-e", ".")
    check = (
        "import sys\n"
        "from importlib.metadata import version\n"
        "for pin in sys.argv[1:]:\n"
        "    name, want = pin.split('==')\n"
        "    name = name.split('[')[0]\n"
        "    assert version(name) == want, f'{name} {version(name)} is not {want}'\n"
    )
    session.run("python", "-c", check, *pins)
    session.run("python", "-m", "pytest", *MINIMUM_TESTS, *session.posargs)
