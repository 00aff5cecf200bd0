"""crownwatch benchmarks: ``python -m bench <name> [options]``; each prints a table
with ratios against a baseline run in the same process."""
