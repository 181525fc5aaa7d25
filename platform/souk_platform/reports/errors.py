from __future__ import annotations

from souk_platform.core.errors import Unprocessable


class InvalidReportPeriod(Unprocessable):
    code = "invalid-report-period"
    title = "The report period is not valid"
