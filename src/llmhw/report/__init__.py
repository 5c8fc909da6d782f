"""The report: run studies and write them as one self-contained HTML page, markdown, CSV, PNG and SVG.

    >>> from llmhw.report import run_studies
    >>> res = run_studies("all", "out/report")          # doctest: +SKIP
    >>> res.paths.index, res.failures                   # doctest: +SKIP

``render(studies, out_dir)`` writes already computed studies (``report.build``: HTML, markdown, CSV,
figures); ``run_studies`` runs them first (``report.run``); the studies' shared plotting style
(colours per hardware, technology and part of a step) is ``llmhw.studies.style``.
"""

from llmhw.report.build import (
           ReportPaths,
           StudyFailure,
           WrittenStudy,
           assemble,
           fmt,
           header,
           render,
           write_study,
)
from llmhw.report.output import check_output
from llmhw.report.run import (
           STUDY_ORDER,
           RunResult,
           available_studies,
           resolve,
           run_one,
           run_studies,
)

__all__ = ["STUDY_ORDER", "ReportPaths", "RunResult", "StudyFailure", "WrittenStudy", "assemble",
           "available_studies", "check_output", "fmt", "header", "render", "resolve", "run_one", "run_studies",
           "write_study"]
