// Pins the Prometheus Operator, whose ServiceMonitor CRD the monitoring integration test installs (hcp emits
// ServiceMonitors where that CRD exists). Nothing of it is built: only the CRD files of its module are read.
module hcp.tools/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.86.1
