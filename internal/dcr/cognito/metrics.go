package cognito

import (
	"context"
	"errors"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// measured is an API that reports every call, retries by the SDK
// included in its duration, to dcr.Metrics.CognitoCall: the operation's
// AWS name, a result (ok, throttled, not_found, error) and how long it
// took. Calls the adapter treats as success (deleting a missing client,
// a branding style that already exists) are still counted by what Cognito
// answered.
type measured struct {
	api API
	m   dcr.Metrics
	now func() time.Time
}

var _ API = measured{}

// measure wraps api when m is not nil.
func measure(api API, m dcr.Metrics, now func() time.Time) API {
	if m == nil {
		return api
	}
	if now == nil {
		now = time.Now
	}
	return measured{api: api, m: m, now: now}
}

// callResult classifies a Cognito error by its AWS error code.
func callResult(err error) string {
	var ae smithy.APIError
	switch {
	case err == nil:
		return dcr.CognitoOK
	case !errors.As(err, &ae):
		return dcr.CognitoError
	case throttleCodes[ae.ErrorCode()]:
		return dcr.CognitoThrottled
	case ae.ErrorCode() == "ResourceNotFoundException":
		return dcr.CognitoNotFound
	}
	return dcr.CognitoError
}

// done reports one call of op that started at start.
func (c measured) done(op string, start time.Time, err error) {
	c.m.CognitoCall(op, callResult(err), c.now().Sub(start))
}

func (c measured) CreateUserPoolClient(ctx context.Context, in *cip.CreateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.CreateUserPoolClientOutput, error) {
	start := c.now()
	out, err := c.api.CreateUserPoolClient(ctx, in, optFns...)
	c.done("CreateUserPoolClient", start, err)
	return out, err
}

func (c measured) UpdateUserPoolClient(ctx context.Context, in *cip.UpdateUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error) {
	start := c.now()
	out, err := c.api.UpdateUserPoolClient(ctx, in, optFns...)
	c.done("UpdateUserPoolClient", start, err)
	return out, err
}

func (c measured) DeleteUserPoolClient(ctx context.Context, in *cip.DeleteUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DeleteUserPoolClientOutput, error) {
	start := c.now()
	out, err := c.api.DeleteUserPoolClient(ctx, in, optFns...)
	c.done("DeleteUserPoolClient", start, err)
	return out, err
}

func (c measured) DescribeUserPoolClient(ctx context.Context, in *cip.DescribeUserPoolClientInput, optFns ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error) {
	start := c.now()
	out, err := c.api.DescribeUserPoolClient(ctx, in, optFns...)
	c.done("DescribeUserPoolClient", start, err)
	return out, err
}

func (c measured) CreateManagedLoginBranding(ctx context.Context, in *cip.CreateManagedLoginBrandingInput, optFns ...func(*cip.Options)) (*cip.CreateManagedLoginBrandingOutput, error) {
	start := c.now()
	out, err := c.api.CreateManagedLoginBranding(ctx, in, optFns...)
	c.done("CreateManagedLoginBranding", start, err)
	return out, err
}

func (c measured) ListResourceServers(ctx context.Context, in *cip.ListResourceServersInput, optFns ...func(*cip.Options)) (*cip.ListResourceServersOutput, error) {
	start := c.now()
	out, err := c.api.ListResourceServers(ctx, in, optFns...)
	c.done("ListResourceServers", start, err)
	return out, err
}
