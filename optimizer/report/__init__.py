"""Reports: the run report (``report.html`` with map, tables and charts) and the sweep report.

:func:`write_report` is what :func:`optimizer.pipeline.write_run` calls for each run;
:func:`write_sweep_report` writes the budget sweep's page.
"""

from optimizer.report.html import render_run_report, write_report
from optimizer.report.sweep_html import render_sweep_report, write_sweep_report

__all__ = ["render_run_report", "render_sweep_report", "write_report", "write_sweep_report"]
