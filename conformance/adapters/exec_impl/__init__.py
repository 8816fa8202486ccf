"""Implementations in any language: a program speaking the exec protocol (:mod:`.protocol`) on stdin/stdout.

:mod:`.client` is the suite's side (``--gatespec-impl exec:COMMAND``); :mod:`.builtin` registers the
clients shipped in ``clients/`` (Node.js, C), each a real implementation in its own language.
"""
