"""The cohort dashboard as a small, dependency-free ASGI application: :class:`CohortApp`.

``CohortApp(bm)`` serves, relative to where it is mounted, ``GET /`` (the query form; with a
query string, the form plus the result table) and ``GET /cohort.csv?...`` (the same table as
CSV). Mount it in Starlette or FastAPI::

    from starlette.routing import Mount
    app = Starlette(routes=[Mount("/cohorts", app=CohortApp(bm))])

or serve it alone: ``bitmapist-async dashboard --redis-url redis://...``.
"""

from __future__ import annotations

from ._asgi import CohortApp as CohortApp

__all__ = ("CohortApp",)
