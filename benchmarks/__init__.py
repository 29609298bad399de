"""Performance benchmarks of the plugin.

Run ``python benchmarks/run_benchmarks.py [--quick] [--skip-e2e]``; it measures everything in one
process run (plus one subprocess per scaling case and for the end-to-end run) and writes
``BENCHMARKS.md``. Claims are ratios of medians of interleaved runs (A B A B ...) measured within
that one run, because the machine is shared and absolute times are noisy.

Modules:
    timing: interleaved timing, medians, GC accounting, profile attribution, machine description.
    cases: the benchmark functions (one per section of BENCHMARKS.md), each returning a plain dict.
    report: the Markdown writer.
    run_benchmarks: the command line.
"""
