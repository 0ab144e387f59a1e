"""``pynvml`` stand-in for subprocesses (test tool only): put ``tests/fake_nvml`` first on ``PYTHONPATH`` and
set ``FAKE_NVML_STREAM`` to a stream file; see ``fake.py``. Without ``FAKE_NVML_STREAM`` it behaves as
pynvml on a machine without a driver (``nvmlInit`` raises)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake import (  # noqa: E402
    NVML_CLOCK_GRAPHICS,
    NVML_CLOCK_MEM,
    NVML_CLOCK_SM,
    NVML_TEMPERATURE_GPU,
    NVMLError,
    NVMLError_LibraryNotFound,
    NVMLError_NotSupported,
    from_environment,
)

_lib = from_environment()
FAKE = True
__all__ = ["NVML_CLOCK_GRAPHICS", "NVML_CLOCK_MEM", "NVML_CLOCK_SM", "NVML_TEMPERATURE_GPU", "NVMLError",
           "NVMLError_LibraryNotFound", "NVMLError_NotSupported", "FAKE"]


def __getattr__(name: str):  # module-level: every nvml* function comes from the fake library
    if name.startswith("nvml"):
        return getattr(_lib, name)
    raise AttributeError(name)
