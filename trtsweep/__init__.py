"""trtsweep: sweep, parse, report and diagnose TensorRT trtexec runs."""

__version__ = "0.1.0"
