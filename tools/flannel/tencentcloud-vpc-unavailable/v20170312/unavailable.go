// Package v20170312 is hcp's stand-in for the Tencent Cloud VPC API client: every call fails with
// ErrUnavailable. It declares only what flannel's tencent-vpc backend refers to.
package v20170312

import "errors"

// ErrUnavailable is what every call returns: hcp's flanneld has no Tencent Cloud VPC support.
var ErrUnavailable = errors.New("the Tencent Cloud VPC backend is not built into hcp's flanneld; use the vxlan backend")

type Client struct{}

func NewClientWithSecretId(secretID, secretKey, region string) (*Client, error) {
	return nil, ErrUnavailable
}

type Filter struct {
	Name   *string
	Values []*string
}

type Route struct {
	RouteId              *uint64
	DestinationCidrBlock *string
	GatewayType          *string
	GatewayId            *string
	RouteType            *string
	Enabled              *bool
}

type RouteTable struct {
	RouteTableId *string
	RouteSet     []*Route
}

type DescribeRouteTablesRequest struct{ Filters []*Filter }

type DescribeRouteTablesResponse struct {
	Response *struct{ RouteTableSet []*RouteTable }
}

type RoutesRequest struct {
	RouteTableId *string
	Routes       []*Route
}

type CreateRoutesRequest = RoutesRequest
type DeleteRoutesRequest = RoutesRequest

func NewDescribeRouteTablesRequest() *DescribeRouteTablesRequest {
	return &DescribeRouteTablesRequest{}
}
func NewCreateRoutesRequest() *CreateRoutesRequest { return &RoutesRequest{} }
func NewDeleteRoutesRequest() *DeleteRoutesRequest { return &RoutesRequest{} }

func (*Client) DescribeRouteTables(*DescribeRouteTablesRequest) (*DescribeRouteTablesResponse, error) {
	return nil, ErrUnavailable
}

func (*Client) CreateRoutes(*CreateRoutesRequest) (struct{}, error) {
	return struct{}{}, ErrUnavailable
}

func (*Client) DeleteRoutes(*DeleteRoutesRequest) (struct{}, error) {
	return struct{}{}, ErrUnavailable
}
