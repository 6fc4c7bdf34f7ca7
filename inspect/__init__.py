"""The standard library's ``inspect`` module, so that ``python -m inspect.hlo`` is safe.

``python -m inspect.hlo`` puts the repository root first on ``sys.path``, so every ``import inspect``
in that process (JAX, dataclasses, pytest) finds this package instead of the standard library module.
This file therefore *is* the standard library module: it runs the stdlib ``inspect.py`` source in
this package's namespace and adds nothing to it. The launchers live in the submodules
(``inspect.hlo``, ...), which only call into ``irscope.cli``.
"""

import os as _os
import sysconfig as _sysconfig

_stdlib_inspect = _os.path.join(_sysconfig.get_paths()["stdlib"], "inspect.py")
with open(_stdlib_inspect, encoding="utf-8") as _f:
    _source = _f.read()
# Keep this package's __file__/__path__ (so that `inspect.hlo` stays importable) and compile
# under the stdlib file name, so tracebacks and getsource() of stdlib functions point there.
exec(compile(_source, _stdlib_inspect, "exec"), globals())
del _os, _sysconfig, _stdlib_inspect, _f, _source
