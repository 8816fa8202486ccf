"""The README's commands are the ones the project actually runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]


def _commands():
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_command = _commands()[0]
    assert "tox run -m test" in test_command
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command.strip() in ci_lines


def test_readme_main_job_names_a_tox_env_that_exists():
    main_job = _commands()[1]
    env = re.search(r"tox run -e (\S+)", main_job).group(1)
    assert f"[testenv:{env}]" in (ROOT / "tox.ini").read_text()


def test_readme_example_is_the_tested_example_implementation():
    blocks = re.findall(r"```python\n(.+?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert (ROOT / "conformance" / "adapters" / "example.py").read_text() in blocks


def test_readme_minimal_client_is_the_tested_one():
    """The README's JavaScript client is tests/exec_clients/minimal_client.js, which test_exec.py runs."""
    blocks = re.findall(r"```javascript\n(.+?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert (ROOT / "tests" / "exec_clients" / "minimal_client.js").read_text() in blocks


# The plugin's options as they were before every one was --gatespec-* (a bare --device or --impl collides with
# other plugins'); the gatespec command's own subcommands (gatespec check, gatespec repro, the instruction
# counter) keep theirs, which no pytest option can collide with.
BARE = re.compile(
    r"(?<![\w-])--(impl|require|device|known-deviations|exec-timeout|bench-baseline|bench-paired-time|bench-processes)(?![\w-])"
)
COMMANDS = re.compile(r"gatespec (check|repro)|instructions")


def test_no_bare_plugin_option_is_left_where_users_read_or_ci_runs():
    for name in ("README.md", "tox.ini", ".ci/run"):
        for number, line in enumerate((ROOT / name).read_text().splitlines(), 1):
            assert not (BARE.search(line) and not COMMANDS.search(line)), f"{name}:{number}: {line}"


def test_every_option_the_plugin_registers_is_prefixed(pytester):
    result = pytester.runpytest("--help")
    group = result.stdout.str().split("gatespec conformance suite:")[1].split("\n\n")[0]
    options = re.findall(r"^\s+(--[\w-]+)", group, flags=re.M)
    assert options and all(o.startswith("--gatespec-") for o in options), options
