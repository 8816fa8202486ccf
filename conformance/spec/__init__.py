"""What gatespec specifies, free of pytest: the operations, the cases, the budgets and the checks.

``operations`` (what an implementation answers), ``checks`` (every check, once: its cases, what it
compares, within which budget).  The suite (``test_*.py``), the export, the benchmarks' checks and
exploration all read these.
"""
