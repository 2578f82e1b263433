"""The conformance run: transpile checked against PyTensor's own Numba test suite.

``make conformance`` (``python -m conformance``) fetches ``tests/`` of the installed
PyTensor's release tag, runs ``tests/link/numba`` under pytest with our plugin, which
turns every graph the suite compiles in Numba mode into a case (pickled, transpiled
with no flags in a fresh process, run in another, compared with the suite's reference
by the suite's own assert function), and writes ``docs/conformance.md``.  That file's
preamble describes the method and the outcomes; the modules:

- ``__main__``: the command line (fetch, run pytest, write the report);
- ``fetch``: the suite's source at the release tag, into ``.conformance/src/``;
- ``plugin``: the pytest plugin (wraps ``compare_numba_and_py`` and ``pytensor.function``);
- ``case``: one case's steps (prepare, pickle, reference, transpile, run, compare);
- ``runner``: runs a generated module on saved inputs, in a process without PyTensor;
- ``values``: argument and result lists as ``.npz`` files (random generators included);
- ``report``: ``docs/conformance.md`` from the JSON lines results;
- ``corpus_load``: loads every corpus pickle with ``transpile.load.load_file``.

Nothing of PyTensor's test code is kept in this repository: it is fetched into
``.conformance/`` (git-ignored), with the corpus of pickled graphs and the results.
"""
