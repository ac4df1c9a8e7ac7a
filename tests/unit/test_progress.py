import io

import pytest

from hcp.progress import Progress, Ticker, duration, ticking


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def progress(tty: bool) -> tuple[Progress, Stream, Clock]:
    clock, stream = Clock(), Stream(tty)
    return Progress(stream, clock=clock), stream, clock


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (7.9, "7s"), (59.99, "59s"), (60, "1m00s"), (130, "2m10s"),
                                          (387, "6m27s"), (3725, "62m05s")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_a_terminal_sees_one_line_rewritten_about_once_a_second():
    log, stream, clock = progress(tty=True)
    ticker = Ticker(log, "[3/9] kubernetes v1.37.1", "building")
    ticker.tick()
    clock.now += 0.5
    ticker.tick()  # too soon: nothing
    clock.now += 0.5
    ticker.tick()
    clock.now += 129
    ticker.tick()
    assert stream.getvalue() == (
        "\r\x1b[K[   0.0s] [3/9] kubernetes v1.37.1: building… 0s"
        "\r\x1b[K[   1.0s] [3/9] kubernetes v1.37.1: building… 1s"
        "\r\x1b[K[ 130.0s] [3/9] kubernetes v1.37.1: building… 2m10s"
    )
    log("next step")  # replaces the live line and ends it
    assert stream.getvalue().endswith("building… 2m10s\r\x1b[K[ 130.0s] next step\n")
    log("after")
    assert stream.getvalue().endswith("next step\n[ 130.0s] after\n")


def test_a_log_file_gets_a_plain_line_every_half_minute():
    log, stream, clock = progress(tty=False)
    ticker = Ticker(log, "[1/2] etcd v3.6.0", "building")
    for _ in range(95):  # the ticking thread wakes once a second
        ticker.tick()
        clock.now += 1
    assert stream.getvalue().splitlines() == [
        "[   0.0s] [1/2] etcd v3.6.0: building… 0s",
        "[  30.0s] [1/2] etcd v3.6.0: building… 30s",
        "[  60.0s] [1/2] etcd v3.6.0: building… 1m00s",
        "[  90.0s] [1/2] etcd v3.6.0: building… 1m30s",
    ]
    assert "\r" not in stream.getvalue()


def test_a_plain_callable_gets_plain_lines_on_the_given_clock():
    lines, clock = [], Clock()
    ticker = Ticker(lines.append, "coredns v1.13.1", "building", clock)
    ticker.tick()
    clock.now += 31
    ticker.tick()
    assert lines == ["coredns v1.13.1: building… 0s", "coredns v1.13.1: building… 31s"]


def test_a_step_ends_with_its_duration():
    log, stream, clock = progress(tty=True)
    with ticking(log, "[2/9] kwok v0.7.0"):
        clock.now += 91
    assert stream.getvalue().endswith("\r\x1b[K[  91.0s] [2/9] kwok v0.7.0: built in 1m31s\n")


def test_a_failed_step_says_so_and_the_error_goes_on():
    log, stream, clock = progress(tty=False)
    with pytest.raises(RuntimeError, match="go build broke"):
        with ticking(log, "[1/1] etcd v3.6.0"):
            clock.now += 12
            raise RuntimeError("go build broke")
    assert stream.getvalue().splitlines() == [
        "[   0.0s] [1/1] etcd v3.6.0: building… 0s",
        "[  12.0s] [1/1] etcd v3.6.0: failed after 12s",
    ]


def test_quiet_progress_writes_nothing():
    clock, stream = Clock(), Stream(tty=True)
    log = Progress(stream, quiet=True, clock=clock)
    with ticking(log, "etcd"):
        clock.now += 5
    log("done")
    assert stream.getvalue() == ""


def test_a_live_line_is_cut_to_the_terminal_width_so_that_it_can_be_rewritten():
    clock, stream = Clock(), Stream(tty=True)
    log = Progress(stream, clock=clock, columns=lambda: 60)
    ticker = Ticker(log, "[1/11] kubernetes v1.37.1", "building",
                    detail="10 more after it; kube-apiserver, kube-controller-manager, +4 more")
    ticker.tick()
    line = stream.getvalue().removeprefix("\r\x1b[K")
    assert line == "[   0.0s] [1/11] kubernetes v1.37.1: building… 0s (10 more…"  # the detail is what is cut
    assert len(line) == 59
    log("a plain line is never cut, whatever its length: " + "x" * 60)
    assert stream.getvalue().endswith("x" * 60 + "\n")


def test_a_plain_line_carries_the_whole_detail():
    lines: list[str] = []
    Ticker(lines.append, "[2/9] etcd v3.6.16", "building", clock=Clock(), detail="7 more after it; etcd").tick()
    assert lines == ["[2/9] etcd v3.6.16: building… 0s (7 more after it; etcd)"]
