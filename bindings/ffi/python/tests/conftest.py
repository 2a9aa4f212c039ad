"""pytest setup: the runner module beside the tests, and one closing line per suite in the form
every runner of this repository prints (``python conformance: N passed, 0 failed``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SUITES = {
    "test_conformance.py": "python conformance",
    "test_vectors.py": "python vectors",
    "test_python_api.py": "python api",
    "test_client_scenarios.py": "python client scenarios",
}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = {name: [0, 0] for name in SUITES.values()}
    for outcome, index in (("passed", 0), ("failed", 1), ("error", 1)):
        for report in terminalreporter.stats.get(outcome, []):
            if report.when != "call" and outcome == "passed":
                continue
            suite = SUITES.get(Path(report.nodeid.split("::")[0]).name)
            if suite:
                counts[suite][index] += 1
    for suite, (passed, failed) in counts.items():
        if passed or failed:
            terminalreporter.write_line(f"{suite}: {passed} passed, {failed} failed")
