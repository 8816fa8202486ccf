"""The plugin's option defaults, in a module that imports nothing.

The pytest plugin is loaded in every pytest session of an environment that has gatespec installed,
so the options' defaults (shown in ``pytest --help``) must be known without importing the modules
that use them: each of those imports its default from here.
"""

# Seconds one exec-protocol request may take before the program counts as hung (--gatespec-exec-timeout).
# The slowest request of the matrix, 1000 nets × 1000 Adam steps batched, takes ~5 s in the JavaScript
# client; a hung program fails its test after this, well before --gatespec-timeout, naming the request.
EXEC_TIMEOUT = 60.0

# Seconds a conformance test may take (--gatespec-timeout).  The slowest legitimate one, measured over
# every style with one thread on a loaded 2-core machine, took 6 s (jax-grad's first eager loss and
# gradients); 50× that leaves room for slower machines, and a hang costs CI minutes, not its job's limit.
TEST_TIMEOUT = 300.0

# The benchmarks' paired timing (benchmarks/paired.py): seconds of alternating samples per task
# (--gatespec-bench-paired-time) and the fewest pairs whatever that takes.
BENCH_PAIRED_TIME = 2.0
BENCH_MIN_PAIRS = 5

# Processes the paired timing runs in (--gatespec-bench-processes): each process carries an offset of
# its own, and the median over three outvotes one odd process.
BENCH_PROCESSES = 3

# The name the run's session is registered under as a plugin: the plugin module asks for it by name,
# so that it need not import the session (and with it numpy) in a run that never starts one.
SESSION_PLUGIN = "gatespec-session"
