"""The console's server-drawn SVG plots: what is drawn for which data, units on the axes, a legend, gaps."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from hcp.console.plots import (
    format_value, legend_label, matrix_series, nice_ticks, scale, svg_plot, time_ticks,
)

SVG = "{http://www.w3.org/2000/svg}"
START = 1_900_001_250.0  # 2030-03-17 18:07:30 UTC
END = START + 3600


def minutes(values, start=START, step=60):
    return [(start + i * step, v) for i, v in enumerate(values)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_one_polyline_per_series_inside_the_frame_and_a_legend_with_last_values():
    series = [("etcd-0", minutes([100 * 2 ** 20] * 61)), ("etcd-1", minutes([50 * 2 ** 20 + i for i in range(61)]))]
    root = parse(svg_plot(series, "bytes", start=START, end=END, step=60, title="etcd database size"))
    assert root.get("role") == "img" and root.get("aria-label") == "etcd database size"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2 and lines[0].get("stroke") != lines[1].get("stroke")
    frame = root.find(f"{SVG}rect")
    left, top = float(frame.get("x")), float(frame.get("y"))
    right, bottom = left + float(frame.get("width")), top + float(frame.get("height"))
    for line in lines:
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        assert len(points) == 61
        assert all(left - 0.05 <= x <= right + 0.05 and top - 0.05 <= y <= bottom + 0.05 for x, y in points)
        assert points[0][0] == pytest.approx(left) and points[-1][0] == pytest.approx(right)
    words = texts(root)
    assert "etcd-0 100 MiB" in words and "etcd-1 50 MiB" in words


def test_the_y_axis_carries_the_unit_scaled_to_the_values_and_starts_at_zero():
    root = parse(svg_plot([("apiserver", minutes([0.3, 0.6, 0.9]))], "suffix: cores", start=START, end=END))
    labels = [t for t in texts(root) if t.endswith(" cores") and not t.startswith("apiserver")]
    assert labels == ["0 cores", "0.2 cores", "0.4 cores", "0.6 cores", "0.8 cores", "1.0 cores"]
    root = parse(svg_plot([("200", minutes([1500.0, 2500.0]))], "reqps", start=START, end=END))
    assert [t for t in texts(root) if "req/s" in t][:3] == ["0 req/s", "0.5k req/s", "1.0k req/s"]
    root = parse(svg_plot([("etcd-0", minutes([0.004, 0.012]))], "s", start=START, end=END))
    assert "15 ms" in texts(root)


def test_the_x_axis_is_labelled_in_utc_wall_clock_time():
    root = parse(svg_plot([("a", minutes([1.0]))], "short", start=START, end=END))
    words = texts(root)
    assert [w for w in words if ":" in w] == ["18:10", "18:20", "18:30", "18:40", "18:50", "19:00"]
    assert "UTC" in words


def test_gaps_and_nan_break_the_line_and_a_lone_point_is_a_dot():
    points = minutes([1.0, 2.0, 3.0]) + minutes([4.0, 5.0], start=START + 600) + [(START + 900, math.nan),
                                                                                  (START + 960, 6.0)]
    root = parse(svg_plot([("a", points)], "short", start=START, end=END, step=60))
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert len(root.findall(f"{SVG}circle")) == 1


def test_no_data_is_said_rather_than_drawn_as_zero():
    root = parse(svg_plot([], "bytes", start=START, end=END))
    assert "no data in this time range" in texts(root) and root.findall(f"{SVG}polyline") == []
    root = parse(svg_plot([("etcd-0", [])], "bytes", start=START, end=END))
    assert "etcd-0 no data" in texts(root)


def test_labels_are_escaped_and_long_ones_shortened():
    root = parse(svg_plot([('<script>alert("x")</script>', minutes([1.0])), ("p" * 100, minutes([2.0]))], "short",
                          start=START, end=END, title="a & b"))
    words = texts(root)
    assert '<script>alert("x")</script> 1' in words  # text, not markup: the parser found no element
    assert root.find(f".//{SVG}script") is None
    assert ("p" * 59 + "… 2") in words
    assert root.find(f"{SVG}title").text == "a & b"


def test_values_are_formatted_with_their_units():
    assert format_value(1.5 * 2 ** 30, "bytes") == "1.5 GiB"
    assert format_value(0, "bytes") == "0 B"
    assert format_value(0.0123, "s") == "12.3 ms"
    assert format_value(0.25, "suffix: cores") == "0.25 cores"
    assert format_value(2500, "suffix: cores") == "2.5k cores"
    assert format_value(3200, "reqps") == "3.2k req/s"
    assert format_value(12, "short") == "12"
    assert format_value(0.5, "percentunit") == "50%"
    assert format_value(7, "watts") == "7"
    assert format_value(math.inf, "short") == "inf"
    assert scale("bytes", 0) == (1.0, " B") and scale("s", 0) == (1.0, " s")


def test_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 0.9) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 123456) == [0, 50000, 100000, 150000]
    assert nice_ticks(-3, 7)[0] <= -3 and nice_ticks(-3, 7)[-1] >= 7
    assert time_ticks(START, START + 86400)[1] - time_ticks(START, START + 86400)[0] >= 3600


def test_prometheus_matrix_answers_become_labelled_series():
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"code": "200"}, "values": [[START, "1.5"], [START + 60, "NaN"]]},
        {"metric": {"code": "404"}, "values": [[START, "0"]]},
        {"metric": {}, "values": []},
    ]}}
    series = matrix_series(answer, "{{code}}")
    assert [label for label, _ in series] == ["", "200", "404"]
    assert series[1][1][0] == (START, 1.5) and math.isnan(series[1][1][1][1])
    assert legend_label("{{ pod }}/{{container}}", {"pod": "etcd-0"}) == "etcd-0/"
    assert legend_label("", {"__name__": "up", "job": "etcd"}) == 'up{job="etcd"}'
    assert legend_label("", {"__name__": "up"}) == "up"
