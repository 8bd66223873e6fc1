"""The dashboard as a small, dependency-free ASGI application: :class:`CohortApp`.

``CohortApp(bm)`` serves, relative to where it is mounted, the overview (``/``), trends
(``/trends``), retention (``/retention``: the cohort form, table and curve) and funnel
(``/funnel``) pages, each page's CSV, and a JSON API (``/api/trend``, ``/api/rolling``,
``/api/funnel``, ``/api/cohort``); see ``docs/dashboard.md``. Mount it in Starlette or
FastAPI::

    from starlette.routing import Mount
    app = Starlette(routes=[Mount("/cohorts", app=CohortApp(bm))])

or serve it alone: ``bitmapist-async dashboard --store redis://...``.
"""

from __future__ import annotations

from ._asgi import CohortApp as CohortApp

__all__ = ("CohortApp",)
