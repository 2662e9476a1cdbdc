"""The HR system's monthly payroll runs, one payslip per employee employed in the month."""

from __future__ import annotations

from ..records import DEMO_YEAR, DemoMaster, PayrollRun, Payslip
from .companies import HOTELCO, SOFTCO
from .rounding import basis_points
from .year import month_end, month_start

WITHHOLDING_BP = {SOFTCO.code: 2_400, HOTELCO.code: 3_100}
EMPLOYER_TAX_BP = {SOFTCO.code: 765, HOTELCO.code: 2_050}


def payroll_runs(master: DemoMaster, month: int) -> tuple[PayrollRun, ...]:
    start, end = month_start(month), month_end(month)
    days_in_month = end.day
    runs = []
    for company in master.companies:
        run_id = f"PR-{company.code}-{DEMO_YEAR}-{month:02d}"
        slips = []
        for e in master.employees:
            if e.company != company.code:
                continue
            first = max(start, e.hire_date)
            last = min(end, e.termination_date or end)
            if first > last:
                continue
            worked = (last - first).days + 1
            denominator = 12 * days_in_month
            gross = (e.annual_salary_minor * worked * 2 + denominator) // (2 * denominator)
            withholding = basis_points(gross, WITHHOLDING_BP[company.code])
            slips.append(
                Payslip(
                    run_id=run_id,
                    employee_id=e.id,
                    department_id=e.department_id,
                    location_id=e.location_id,
                    days_worked=worked,
                    gross_minor=gross,
                    withholding_minor=withholding,
                    net_minor=gross - withholding,
                    employer_tax_minor=basis_points(gross, EMPLOYER_TAX_BP[company.code]),
                )
            )
        if slips:
            runs.append(
                PayrollRun(run_id, company.code, start, end, end, tuple(slips), company.currency)
            )
    return tuple(runs)
