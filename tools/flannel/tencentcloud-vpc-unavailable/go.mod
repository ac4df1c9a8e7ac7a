// Stands in for the Tencent Cloud VPC SDK, which the Go module proxy does not serve (403 for every
// version), so that flanneld builds. Only flannel's tencent-vpc backend uses it; hcp runs the vxlan
// backend, and this module makes the tencent-vpc backend fail with an error instead of calling the cloud.
module github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc

go 1.26.0
