"""Keep the CLI's stderr for EvalVerse's own messages; `evalverse --verbose ...` shows everything.

Third-party libraries write to stderr on their own: mediapipe's TensorFlow Lite and absl C++ logging
("INFO: Created TensorFlow Lite XNNPACK delegate", "W0000 ... inference_feedback_manager.cc"), protobuf
deprecation warnings, progress bars. Environment switches and Python logging/warning filters silence the
Python-side noise. The C++ logs honour no environment variable in the mediapipe we ship (absl's C++ log
level is not read from the environment), so the process's native stderr (file descriptor 2) is pointed at
/dev/null while Python's `sys.stderr`, where EvalVerse writes, keeps the terminal.

Must run before the heavy libraries are imported (the commands import them inside their bodies).
"""
from __future__ import annotations

import io
import logging
import os
import sys
import warnings

# read by the libraries at import time; set only where the user has not chosen a value
QUIET_ENV = {
    "GLOG_minloglevel": "2",  # glog (older mediapipe): errors only
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow / TF Lite C++ logging
    "OPENCV_LOG_LEVEL": "ERROR",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
}
OWN_LOGGER = "evalverse"


class _OwnRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == OWN_LOGGER or record.name.startswith(OWN_LOGGER + ".")


def verbose_requested(argv: list[str]) -> bool:
    """`--verbose` among the options before a `--` (the global flag; the commands have no flag of that name)."""
    args = argv[: argv.index("--")] if "--" in argv else argv
    return "--verbose" in args


def silence_third_party() -> None:
    """Environment, logging and warnings set so that only EvalVerse's messages reach stderr."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"evalverse(\.|$)")
    root = logging.getLogger()
    if not any(isinstance(h, _OwnHandler) for h in root.handlers):
        root.addHandler(_OwnHandler())  # with a handler on the root, logging's last-resort printer stays silent
    _quiet_native_stderr()


class _OwnHandler(logging.StreamHandler):
    """EvalVerse's records (warnings and up) to the current sys.stderr; everybody else's nowhere."""

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)
        self.addFilter(_OwnRecords())
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))

    @property  # type: ignore[override]
    def stream(self):  # follow sys.stderr, which _quiet_native_stderr may replace
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _python_stderr_is_fd2() -> bool:
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # captured (tests) or replaced: leave it alone
        return False


def _quiet_native_stderr() -> None:
    """Send file descriptor 2 (C/C++ libraries) to /dev/null; Python's sys.stderr moves to a copy of it."""
    if not _python_stderr_is_fd2():
        return
    try:
        sys.stderr.flush()
        kept = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    os.dup2(devnull, 2)
    os.close(devnull)
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr = io.TextIOWrapper(io.FileIO(kept, "w"), encoding=encoding, errors="backslashreplace",
                                  line_buffering=True, write_through=True)
