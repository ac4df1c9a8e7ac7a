"""JSON log lines: one object per record with time, level, logger, msg and the extra fields."""

from __future__ import annotations

import io
import json
import logging
import sys

from hcp.kube.logs import JSONFormatter, configure_logging


def record(msg: str = "reconcile failed", *args, exc_info=None, **extra) -> logging.LogRecord:
    return logging.getLogger("hcp.kube.controller").makeRecord(
        "hcp.kube.controller", logging.ERROR, __file__, 1, msg, args, exc_info, extra=extra)


def test_a_record_is_one_json_line_with_its_extra_fields():
    line = JSONFormatter().format(record("reconciled %s in %.1fs", "clusters/demo", 1.25,
                                         controller="hostedcluster", key="clusters/demo"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error"
    assert entry["logger"] == "hcp.kube.controller"
    assert entry["msg"] == "reconciled clusters/demo in 1.2s"
    assert entry["controller"] == "hostedcluster"
    assert entry["key"] == "clusters/demo"
    assert entry["time"].endswith("+00:00")
    assert set(entry) == {"time", "level", "logger", "msg", "controller", "key"}


def test_exceptions_are_kept_in_the_line():
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        line = JSONFormatter().format(record(exc_info=sys.exc_info(), key="ns/a"))
    entry = json.loads(line)
    assert "RuntimeError: boom" in entry["exc"]
    assert "Traceback" in entry["exc"]


def test_values_that_are_not_json_are_written_as_text():
    entry = json.loads(JSONFormatter().format(record(retry_in=0.5, path=object.__new__(object))))
    assert entry["retry_in"] == 0.5
    assert entry["path"].startswith("<object object")


def test_configure_logging_sends_json_to_the_stream():
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("DEBUG", stream)
        logging.getLogger("hcp.test").debug("hello", extra={"controller": "nodepool"})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    entry = json.loads(stream.getvalue())
    assert (entry["msg"], entry["controller"], entry["level"]) == ("hello", "nodepool", "debug")
