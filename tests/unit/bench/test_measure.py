"""The arithmetic of bench/measure.py: usage over an idle window from kubelet's stats/summary, the operator's
usage from two scrapes of its metrics, and the share of one control plane."""

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[3] / "bench" / "measure.py"
spec = importlib.util.spec_from_file_location("bench_measure", PATH)
measure = importlib.util.module_from_spec(spec)
spec.loader.exec_module(measure)

MIB = 2 ** 20


def summary(time, node_cpu_ns, node_ws, pods):
    """A stats/summary as kubelet serves it, cut to the fields read (pods: name -> (cpu_ns, working set))."""
    return {
        "node": {"nodeName": "hcp-node",
                 "cpu": {"time": time, "usageNanoCores": 123, "usageCoreNanoSeconds": node_cpu_ns},
                 "memory": {"time": time, "workingSetBytes": node_ws, "rssBytes": node_ws // 2}},
        "pods": [{"podRef": {"name": name, "namespace": "clusters-a", "uid": name},
                  "cpu": {"time": time, "usageCoreNanoSeconds": cpu},
                  "memory": {"time": time, "workingSetBytes": ws}} for name, (cpu, ws) in pods.items()],
    }


def test_cpu_is_the_rate_of_the_cumulative_counters_and_memory_the_median():
    samples = [measure.usage_sample(s) for s in (
        summary("2026-01-01T10:00:00Z", 0, 1000 * MIB, {"etcd-0": (0, 50 * MIB), "kas": (0, 200 * MIB)}),
        summary("2026-01-01T10:00:10Z", 2 * 10**9, 1100 * MIB,
                {"etcd-0": (10**8, 52 * MIB), "kas": (10**9, 210 * MIB)}),
        summary("2026-01-01T10:00:20Z", 4 * 10**9, 1050 * MIB,
                {"etcd-0": (2 * 10**8, 51 * MIB), "kas": (2 * 10**9, 205 * MIB)}),
    )]
    usage = measure.window_usage(samples)
    assert usage["node"] == {"cpu_m": 200.0, "memory_mib": 1050.0}  # 4 s of CPU over 20 s
    assert usage["pods"] == {"cpu_m": 110.0, "memory_mib": 256.0, "count": 2}
    assert usage["samples"] == 3


def test_a_counter_kubelet_did_not_refresh_gives_no_rate():
    same = measure.usage_sample(summary("2026-01-01T10:00:00Z", 5, MIB, {}))
    usage = measure.window_usage([same, same])
    assert usage["node"]["cpu_m"] is None and usage["pods"]["cpu_m"] is None


def test_a_pod_that_came_or_went_during_the_window_is_left_out_of_the_cpu():
    first = measure.usage_sample(summary("2026-01-01T10:00:00Z", 0, MIB, {"a": (0, MIB)}))
    last = measure.usage_sample(summary("2026-01-01T10:00:10Z", 10**9, MIB, {"a": (10**8, MIB), "b": (10**9, MIB)}))
    assert measure.window_usage([first, last])["pods"]["cpu_m"] == 10.0


METRICS = """# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.048576e+08
controller_runtime_reconcile_total{controller="hostedcluster",result="success"} 7.0
python_info{implementation="CPython",major="3"} 1.0
"""


def test_prometheus_text_gives_the_unlabelled_series():
    assert measure.prometheus_values(METRICS) == {"process_cpu_seconds_total": 12.5,
                                                  "process_resident_memory_bytes": 104857600.0}


def test_operator_cpu_over_the_window_and_rss_at_its_end():
    before = measure.prometheus_values(METRICS)
    after = {**before, "process_cpu_seconds_total": 12.8}
    assert measure.operator_usage(before, after, 60.0) == {"cpu_m": 5.0, "rss_mib": 100.0}
    assert measure.operator_usage({}, {}, 60.0) == {"cpu_m": None, "rss_mib": None}


def test_per_control_plane_is_the_growth_over_the_baseline_divided_by_the_count():
    share = measure.per_control_plane({"cpu_m": 300.0, "memory_mib": 2000.0},
                                      {"cpu_m": 900.0, "memory_mib": 8000.0}, 30)
    assert share == {"cpu_m": 20.0, "memory_mib": 200.0}
    assert measure.per_control_plane({"cpu_m": None, "memory_mib": 1.0}, {"cpu_m": 1.0, "memory_mib": 2.0}, 0) == \
        {"cpu_m": None, "memory_mib": None}


def test_no_samples_is_an_error():
    with pytest.raises(ValueError):
        measure.window_usage([])


def test_create_times_of_a_series():
    assert measure.create_times([40.0, 44.0, 41.0, 60.0]) == {"first": 40.0, "last": 60.0, "median": 42.5,
                                                              "ratio_last_to_first": 1.5}
    assert measure.create_times([]) == {"first": None, "last": None, "median": None, "ratio_last_to_first": None}


HISTOGRAM = """# TYPE controller_runtime_reconcile_time_seconds histogram
controller_runtime_reconcile_time_seconds_bucket{controller="hostedcluster",le="0.005"} 1.0
controller_runtime_reconcile_time_seconds_sum{controller="hostedcluster"} 9.0
controller_runtime_reconcile_time_seconds_count{controller="hostedcluster"} 3.0
controller_runtime_reconcile_time_seconds_bucket{controller="nodepool",le="0.005"} 2.0
controller_runtime_reconcile_time_seconds_sum{controller="nodepool"} 1.5
controller_runtime_reconcile_time_seconds_count{controller="nodepool"} 10.0
"""


def test_a_labelled_series_is_found_by_a_subset_of_its_labels():
    assert measure.labelled_value(HISTOGRAM, "controller_runtime_reconcile_time_seconds_sum",
                                  {"controller": "nodepool"}) == 1.5
    assert measure.labelled_value(HISTOGRAM, "controller_runtime_reconcile_time_seconds_bucket",
                                  {"controller": "nodepool"}) == 2.0
    assert measure.labelled_value(HISTOGRAM, "controller_runtime_reconcile_time_seconds_sum",
                                  {"controller": "other"}) is None


def test_reconciles_of_a_controller_between_two_scrapes():
    after = HISTOGRAM.replace('_sum{controller="nodepool"} 1.5', '_sum{controller="nodepool"} 3.5').replace(
        '_count{controller="nodepool"} 10.0', '_count{controller="nodepool"} 18.0')
    assert measure.reconcile_window(HISTOGRAM, after, "nodepool") == {"passes": 8, "mean_s": 0.25, "total_s": 2.0}
    assert measure.reconcile_window(HISTOGRAM, HISTOGRAM, "nodepool") == {"passes": 0, "mean_s": None,
                                                                          "total_s": 0.0}


def test_passes_per_minute_of_every_controller_between_two_scrapes():
    after = HISTOGRAM.replace('_sum{controller="nodepool"} 1.5', '_sum{controller="nodepool"} 3.5').replace(
        '_count{controller="nodepool"} 10.0', '_count{controller="nodepool"} 18.0')
    assert measure.controllers(after) == ["hostedcluster", "nodepool"]
    assert measure.passes_per_minute(HISTOGRAM, after, 120.0) == {
        "hostedcluster": {"per_min": 0.0, "mean_s": None}, "nodepool": {"per_min": 4.0, "mean_s": 0.25}}
