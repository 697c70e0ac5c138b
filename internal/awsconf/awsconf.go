// Package awsconf loads the AWS SDK configuration mcp-dcr uses for Cognito
// and DynamoDB: the SDK's default credential chain with bounded retries and
// a bounded HTTP client, and one endpoint override for emulators (moto).
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Retry and timeout bounds applied to every AWS call made with a loaded
// configuration. A Lambda invocation must answer well within API Gateway's
// 29-second integration timeout, so one call (all attempts) stays near
// MaxAttempts*HTTPTimeout plus MaxBackoff between attempts.
const (
	// MaxAttempts is the number of attempts per API call, the first included.
	MaxAttempts = 3
	// MaxBackoff caps the delay between two attempts.
	MaxBackoff = 2 * time.Second
	// HTTPTimeout bounds one HTTP round trip, response body included.
	HTTPTimeout = 8 * time.Second
)

// EmulatorAccessKeyID and EmulatorSecretAccessKey are the static dummy
// credentials Load uses for an endpoint override when the environment names
// no credentials. Emulators such as moto accept any signature.
const (
	EmulatorAccessKeyID     = "test"
	EmulatorSecretAccessKey = "test"
)

// credentialEnv are the variables whose presence means the operator chose
// credentials through the environment (static keys, a profile, web identity
// or a container endpoint); Load then leaves the default chain alone even
// for an endpoint override.
var credentialEnv = []string{
	"AWS_ACCESS_KEY_ID",
	"AWS_PROFILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
}

// Load returns an aws.Config for region through the SDK's default chain
// (environment, shared config and credentials files, web identity, the
// Lambda or ECS role, IMDS), with at most MaxAttempts attempts per call,
// backoff capped at MaxBackoff and an HTTP client timing out after
// HTTPTimeout.
//
// region is required (the SDK would otherwise ask IMDS, which hangs outside
// AWS). endpoint, when not empty, must be an absolute http or https URL; it
// becomes BaseEndpoint for every service client built from the config (one
// emulator such as moto serves them all) and, when none of credentialEnv is
// set, the credentials become EmulatorAccessKeyID/EmulatorSecretAccessKey so
// that no real credentials are looked up or sent to an emulator.
//
// Not checked: that the credentials are valid or that endpoint answers; the
// first API call finds out. An endpoint override is not restricted to
// loopback: pointing it elsewhere is the operator's choice.
func Load(ctx context.Context, region, endpoint string) (aws.Config, error) {
	if region == "" {
		return aws.Config{}, errors.New("awsconf: region is required")
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(newRetryer),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(HTTPTimeout)),
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("awsconf: endpoint %q is not an absolute http(s) URL", endpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(endpoint))
		if !credentialsInEnv() {
			opts = append(opts, config.WithCredentialsProvider(
				credentials.NewStaticCredentialsProvider(EmulatorAccessKeyID, EmulatorSecretAccessKey, "")))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsconf: load AWS configuration for %s: %w", region, err)
	}
	return cfg, nil
}

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
	})
}

func credentialsInEnv() bool {
	for _, k := range credentialEnv {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}
