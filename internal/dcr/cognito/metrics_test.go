package cognito

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrtest"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// slowAPI is the fake whose CreateUserPoolClient takes 250ms on clock.
type slowAPI struct {
	*fakeAPI
	clock *testkit.Clock
}

func (s slowAPI) CreateUserPoolClient(ctx context.Context, in *cip.CreateUserPoolClientInput, o ...func(*cip.Options)) (*cip.CreateUserPoolClientOutput, error) {
	s.clock.Advance(250 * time.Millisecond)
	return s.fakeAPI.CreateUserPoolClient(ctx, in, o...)
}

// TestMetrics proves every Cognito call is counted by its AWS operation
// name and what Cognito answered (ok, throttled, not_found, error), the
// calls the adapter treats as success included, and timed on the clock.
func TestMetrics(t *testing.T) {
	m := &dcrtest.Metrics{}
	clock := testkit.NewClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	f := &fakeAPI{pages: [][]types.ResourceServerType{{}, {}}}
	c, err := New(slowAPI{f, clock}, Options{UserPoolID: pool, Metrics: m, Now: clock.Now, ManagedLoginBranding: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	if _, _, err := c.Create(ctx, publicSpec); err != nil {
		t.Fatal(err)
	}
	f.createErr = &types.TooManyRequestsException{Message: aws.String("slow down")}
	if _, _, err := c.Create(ctx, publicSpec); !errors.Is(err, ErrThrottled) {
		t.Fatalf("throttled create: %v", err)
	}
	f.updateErr = &smithy.GenericAPIError{Code: "InvalidParameterException"}
	_ = c.Update(ctx, "c1", publicSpec)
	f.deleteErr = &types.ResourceNotFoundException{Message: aws.String("no")}
	if err := c.Delete(ctx, "c1"); err != nil {
		t.Fatalf("delete of a missing client: %v", err)
	}
	f.describeErr = errors.New("network")
	_, _ = c.Secret(ctx, "c1")
	if _, err := c.ResourceServerScopes(ctx); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"cognito CreateUserPoolClient ok",
		"cognito CreateManagedLoginBranding ok",
		"cognito CreateUserPoolClient throttled",
		"cognito UpdateUserPoolClient error",
		"cognito DeleteUserPoolClient not_found",
		"cognito DescribeUserPoolClient error",
		"cognito ListResourceServers ok",
		"cognito ListResourceServers ok",
	}
	if got := m.Events(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	if d := m.Durations("CreateUserPoolClient"); !slices.Equal(d, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}) {
		t.Fatalf("CreateUserPoolClient durations = %v, want 250ms twice", d)
	}
	if d := m.Durations("DeleteUserPoolClient"); !slices.Equal(d, []time.Duration{0}) {
		t.Fatalf("DeleteUserPoolClient durations = %v, want 0", d)
	}
}

// TestNoMetricsNoWrapper: without Metrics the adapter calls the API as
// given.
func TestNoMetricsNoWrapper(t *testing.T) {
	f := &fakeAPI{}
	if c := newClients(t, f, Options{}); c.api != API(f) {
		t.Fatalf("api = %T, want the fake itself", c.api)
	}
}
