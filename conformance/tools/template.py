"""``gatespec new NAME``: a package for a new implementation, ready for the matrix.

It writes ``NAME/`` with a ``pyproject.toml`` that registers the implementation in the entry-point
group ``gatespec.implementations``, the package ``NAME_with_underscores/`` holding the README's
complete example (:mod:`gatespec.conformance.adapters.example`, renamed to NAME), and a README saying how
to run it.  ``pip install ./NAME`` beside gatespec, then ``pytest --pyargs gatespec.conformance
--gatespec-impl NAME --gatespec-require NAME`` (or ``gatespec check NAME``) runs the matrix for it; CI runs exactly
that (tox env ``template``).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from gatespec.conformance.adapters import example
from gatespec.conformance.plugin.registry import ENTRY_POINT_GROUP

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_EXAMPLE_NAME = 'name = "tiny-mlp"'
_EXAMPLE_CLASS = "TinyNumpyMLP"

PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
description = "{name}: an implementation of the gatespec contract"
requires-python = ">=3.10"
# gatespec itself is installed beside it (pip install gatespec, or from its checkout).
dependencies = ["numpy"]

[project.entry-points."{group}"]
{name} = "{package}.implementation:{cls}"

[tool.setuptools]
packages = ["{package}"]
"""

README = """\
# {name}

An implementation of the gatespec contract, made by `gatespec new {name}`: the numpy MLP forward pass
and gradients of gatespec's README.  Replace `{package}/implementation.py` with yours (declare its
`capabilities`, override those operations; `gatespec.conformance.spec.interface` is the one file to read).
Set `compiled = True` on the class if your framework traces or compiles per net shape and dtype (a JIT, a
graph, generated kernels): the suite then runs the generated cases' each-choice subset and the benchmarks time
the first call apart.  Keep the cases exploration finds in a file passed as `--gatespec-regressions=FILE`.

```sh
pip install ./{name}               # beside gatespec
gatespec check {name}               # the matrix for it, and where its report is
```
"""


def new(name: str, parent: Path) -> Path:
    """Write the package ``parent/name`` and return its folder; ValueError for a bad name or an existing folder."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"name: expected lower-case letters, digits and single hyphens (e.g. my-mlp), got {name!r}")
    root = Path(parent) / name
    if root.exists():
        raise ValueError(f"{root}: already exists; gatespec new writes a new folder only")
    package = name.replace("-", "_")
    cls = "".join(part.capitalize() for part in name.split("-"))  # my-mlp → MyMlp
    source = inspect.getsource(example)
    if source.count(_EXAMPLE_NAME) != 1 or source.count(f"class {_EXAMPLE_CLASS}(") != 1:
        raise RuntimeError(
            f"gatespec.conformance.adapters.example: expected one {_EXAMPLE_NAME!r} and one {_EXAMPLE_CLASS} to rename"
        )
    source = source.replace(f"class {_EXAMPLE_CLASS}(", f"class {cls}(")
    (root / package).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name, package=package, group=ENTRY_POINT_GROUP, cls=cls))
    (root / "README.md").write_text(README.format(name=name, package=package))
    (root / package / "__init__.py").write_text(f'"""{name}: an implementation of the gatespec contract."""\n')
    (root / package / "implementation.py").write_text(source.replace(_EXAMPLE_NAME, f'name = "{name}"'))
    return root
