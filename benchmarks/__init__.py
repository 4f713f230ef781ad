"""Reference implementations and benchmarks that compare sbpose with other frameworks."""
