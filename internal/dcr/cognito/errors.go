package cognito

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// ErrThrottled marks a Cognito call refused for rate or quota reasons
// (TooManyRequestsException, LimitExceededException, ThrottlingException)
// after the SDK's bounded retries. Callers answer 503 or 429 with
// Retry-After. LimitExceededException also covers the pool's app-client
// quota (1,000 by default); the registration service's own ceiling is meant
// to keep that from being reached. The AWS error stays in the chain
// (errors.As finds the smithy.APIError).
var ErrThrottled = errors.New("cognito: throttled or limit exceeded")

// throttleCodes are the AWS error codes wrap maps to ErrThrottled.
var throttleCodes = map[string]bool{
	"TooManyRequestsException": true,
	"LimitExceededException":   true,
	"ThrottlingException":      true,
}

// wrap adds op as context and, for throttling codes, ErrThrottled.
func wrap(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && throttleCodes[ae.ErrorCode()] {
		return fmt.Errorf("cognito: %s: %w: %w", op, ErrThrottled, err)
	}
	return fmt.Errorf("cognito: %s: %w", op, err)
}
