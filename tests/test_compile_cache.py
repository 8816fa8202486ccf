"""--gatespec-compile-cache: the frameworks' persistent caches pointed into one directory, cold then warm."""

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from gatespec.conformance.plugin import compile_cache

pytest_plugins = ["pytester"]


def test_the_tf_flag_replaces_an_earlier_setting_and_keeps_the_other_flags():
    flags = "--tf_xla_auto_jit=2 --tf_xla_persistent_cache_directory=/old --tf_xla_cpu_global_jit"
    updated = compile_cache._with_flag(flags, compile_cache.TF_FLAG, "/new")
    assert updated.split() == [
        "--tf_xla_auto_jit=2",
        "--tf_xla_cpu_global_jit",
        "--tf_xla_persistent_cache_directory=/new",
    ]


def test_every_framework_gets_a_folder_of_its_own_inside_the_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_XLA_FLAGS", raising=False)
    env = compile_cache.environment(tmp_path)
    # The variables each framework reads (JAX, TF's XLA flag, Inductor): where they point is the module's choice,
    # that they point apart and inside DIR is the contract (a fresh DIR is a cold start for all three).
    tf_flag, _, tf_dir = env["TF_XLA_FLAGS"].partition("=")
    assert tf_flag == compile_cache.TF_FLAG
    folders = [Path(env["JAX_COMPILATION_CACHE_DIR"]), Path(tf_dir), Path(env["TORCHINDUCTOR_CACHE_DIR"])]
    assert all(f.parent == tmp_path for f in folders) and len(set(folders)) == len(folders), folders
    # JAX skips compiles under a second by default: nearly every one here.
    assert float(env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) == 0
    # No size limit: JAX's limit re-lists the whole directory on every write (a cold matrix 601 s -> 901 s).
    assert "JAX_COMPILATION_CACHE_MAX_SIZE" not in env


class _Config:
    def __init__(self, cache: str | None, benchmark_disable: bool):
        self.values = {compile_cache.OPTION: cache, "benchmark_disable": benchmark_disable}

    def getoption(self, name, default=None):
        return self.values.get(name, default)


@pytest.mark.parametrize(
    ("cache", "benchmark_disable", "refused"),
    [("/c", False, True), ("/c", True, False), (None, False, False)],
    ids=["cache-timed", "cache-benchmarks-disabled", "no-cache-timed"],
)
def test_compile_benchmarks_are_not_timed_against_a_warm_cache(cache, benchmark_disable, refused):
    items = [SimpleNamespace(originalname="test_compile", nodeid="test_compile[jax-jit-xor-forward]")]
    config = _Config(cache, benchmark_disable)
    if refused:
        with pytest.raises(pytest.UsageError, match="would time reads of the compile cache"):
            compile_cache.check_benchmarks(config, items)
    else:
        compile_cache.check_benchmarks(config, items)
    # Without test_compile selected there is nothing to refuse.
    compile_cache.check_benchmarks(config, [SimpleNamespace(originalname="test_task", nodeid="test_task[x]")])


def test_a_second_run_starts_warm_from_what_the_first_compiled(pytester):
    # A subprocess, so that the frameworks load after the option has set their variables, as in a real run.
    styles = [s for s, module in (("jax-jit", "jax"), ("tf-xla", "tensorflow")) if importlib.util.find_spec(module)]
    if not styles:
        pytest.skip("neither jax nor tensorflow is installed: no framework here keeps compiled code")
    cache = pytester.path / "cache"
    args = (
        "--pyargs",
        "gatespec.conformance",
        "-p",
        "no:cacheprovider",
        f"--gatespec-impl={','.join(styles)}",
        "-k",
        "test_mlp_forward_matches_reference and xor-2-2-1",
        f"--gatespec-compile-cache={cache}",
    )
    cold = pytester.runpytest_subprocess(*args)
    outcomes = cold.parseoutcomes()
    assert cold.ret == pytest.ExitCode.OK and outcomes["passed"] >= 2 * len(styles), outcomes
    cold.stdout.fnmatch_lines([f"gatespec: compile cache {cache} (*), empty: a cold start"])
    written = {style: _files(cache / sub) for style, sub in (("jax-jit", "jax"), ("tf-xla", "tf")) if style in styles}
    assert all(written.values()), f"nothing written for {[s for s, n in written.items() if not n]}: {written}"
    warm = pytester.runpytest_subprocess(*args)
    assert warm.ret == pytest.ExitCode.OK and warm.parseoutcomes() == outcomes, warm.parseoutcomes()
    line = next(line for line in warm.stdout.lines if line.startswith("gatespec: compile cache"))
    assert re.search(r"\d+ files already there: a warm start$", line), line
    # Every executable the warm run needed had its entry already (the torn run below shows they are read).
    assert {style: _files(cache / sub) for style, sub in (("jax-jit", "jax"), ("tf-xla", "tf")) if style in styles} == (
        written
    )
    if "jax-jit" not in styles:
        return
    # Torn entries, as a read racing another process's write sees them: JAX warns and compiles, the tests pass.
    for entry in (cache / "jax").iterdir():
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    torn = pytester.runpytest_subprocess(*args)
    warned = torn.parseoutcomes()
    assert torn.ret == pytest.ExitCode.OK and warned.pop("warnings", 0) >= 1 and warned == outcomes, warned
    torn.stdout.fnmatch_lines(["*Error reading persistent compilation cache entry*"])


def _files(directory) -> int:
    return sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0


def test_torch_compile_compiles_from_cold_after_clear_caches():
    """The compile benchmarks time the first call after ``clear_caches()``: it must compile, not read a cache.

    Inductor keeps compiled graphs on disk by default (its FX-graph cache in /tmp, kept across runs):
    with ``dynamo.reset()`` alone the second cold round was a cache read (xor-forward 89 ms, against
    1.1 s compiled).  Checked by inductor's own counters: no FX-graph cache hit after the clear.
    """
    pytest.importorskip("torch", reason="torch-compile needs torch (the torch extra)")
    import os

    from torch._dynamo.utils import counters

    from gatespec.conformance.adapters.torch_impl.compiled import TorchCompile
    from gatespec.conformance.benchmarks.tasks import TASKS
    from gatespec.conformance.spec.interface import Target

    task = next(t for t in TASKS if t.op == "mlp_forward")
    impl, target = TorchCompile(), Target("float32")
    before, dirs = os.environ.get("TORCHINDUCTOR_CACHE_DIR"), []
    try:
        for _ in range(2):
            impl.clear_caches()
            dirs.append(os.environ["TORCHINDUCTOR_CACHE_DIR"])
            assert not os.listdir(dirs[-1]), f"inductor's cache dir after clear_caches() is not empty: {dirs[-1]}"
            counters.clear()
            impl.native(task.op, target, **task.inputs()).run()
            assert counters["inductor"]["fxgraph_cache_miss"] >= 1, dict(counters["inductor"])
            assert counters["inductor"]["fxgraph_cache_hit"] == 0, dict(counters["inductor"])
        assert not os.path.exists(dirs[0]), "the previous round's temporary cache dir was left behind"
    finally:
        # What the process's exit does (atexit): this worker's later compiles go back to its own cache dir.
        impl._fresh_cache.close()
    assert os.environ.get("TORCHINDUCTOR_CACHE_DIR") == before and not os.path.exists(dirs[-1])
