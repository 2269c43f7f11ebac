"""Benchmarks, load generators and simulators: tools that drive canyu, not parts of it."""
