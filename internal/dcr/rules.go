package dcr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// The Check* functions are the registration rules an operator's settings must
// meet, one per setting. [Policy.Validate] applies them to a Policy, and
// internal/config applies them to mcp-dcr's configuration keys, so each rule
// is written once. They return nil or an error that names neither the field
// nor the key: the caller adds that.

// MaxAppClientQuota bounds AppClientQuota: a sanity ceiling far above
// Cognito's default of 1,000 app clients per user pool.
const MaxAppClientQuota = 1_000_000

// reservedSchemes can never be private-use schemes: they name network
// protocols or execute/read content in a user agent.
var reservedSchemes = []string{"http", "https", "javascript", "data", "file", "vbscript",
	"blob", "about", "ftp", "ws", "wss", "mailto", "tel", "urn", "chrome", "view-source"}

// CheckAllowedScope reports why s cannot be an allowed scope: it is not an
// RFC 6749 §3.3 scope-token ([oauthmeta.ValidScopeToken]), or it is
// offline_access, which Cognito does not have (refresh tokens come with the
// authorization code flow).
func CheckAllowedScope(s string) error {
	switch {
	case !oauthmeta.ValidScopeToken(s):
		return errors.New("not a valid scope token (RFC 6749 section 3.3)")
	case s == scopeOfflineAccess:
		return errors.New("Cognito has no such scope (refresh tokens come with the code flow)")
	}
	return nil
}

// CheckDefaultScope reports a default scope that is not among allowed
// (a default is granted without being requested, so it must be allowed).
func CheckDefaultScope(s string, allowed []string) error {
	if !slices.Contains(allowed, s) {
		return errors.New("not among the allowed scopes")
	}
	return nil
}

// CheckRedirectPattern reports why raw is not a valid redirect pattern (see
// Policy.RedirectPatterns for the syntax).
func CheckRedirectPattern(raw string) error {
	_, err := compilePattern(raw)
	return err
}

// CheckPrivateUseScheme accepts an RFC 8252 §7.1 private-use scheme: RFC
// 3986 §3.1 scheme syntax in lower case, excluding the schemes of network
// protocols and of content a user agent executes or reads (http, https,
// javascript, data, file, ...).
func CheckPrivateUseScheme(s string) error {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return errors.New("must start with a lower-case letter")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return errors.New("only a-z, 0-9, '+', '-' and '.' are allowed")
		}
	}
	if slices.Contains(reservedSchemes, s) {
		return errors.New("reserved scheme")
	}
	return nil
}

// CheckAppClientQuota accepts a user pool's app-client quota: 1 to
// [MaxAppClientQuota].
func CheckAppClientQuota(quota int) error {
	if quota <= 0 || quota > MaxAppClientQuota {
		return fmt.Errorf("must be 1..%d", MaxAppClientQuota)
	}
	return nil
}

// CheckMaxRegistrations accepts a registration ceiling that is positive and
// below the pool's app-client quota, so that registrations cannot exhaust
// the pool (operators' own app clients need room too).
func CheckMaxRegistrations(max, quota int) error {
	if max <= 0 || max >= quota {
		return fmt.Errorf("must be positive and below the app client quota %d", quota)
	}
	return nil
}

// CheckRegistrationTTL refuses a negative registration lifetime (0 means
// registrations never expire).
func CheckRegistrationTTL(d time.Duration) error {
	if d < 0 {
		return errors.New("must not be negative (0 means never expire)")
	}
	return nil
}

// CheckClientNamePrefix accepts a prefix for Cognito app client names: at
// most 64 characters from Cognito's name syntax [\w\s+=,.@-], read as ASCII
// (see [CognitoClientName]).
func CheckClientNamePrefix(prefix string) error {
	if len(prefix) > maxNamePrefix || !cognitoNameChars(prefix) {
		return fmt.Errorf("at most %d characters from [A-Za-z0-9_ +=,.@-]", maxNamePrefix)
	}
	return nil
}

// MaxLoopbackCallbackLimit bounds LoopbackCallbackLimit: Cognito allows 100
// callback URLs per app client, and a client registers at least one.
const MaxLoopbackCallbackLimit = maxRedirectURIs - 1

// CheckLoopbackCallbackLimit accepts a LoopbackCallbackLimit of 1 to
// [MaxLoopbackCallbackLimit].
func CheckLoopbackCallbackLimit(n int) error {
	if n < 1 || n > MaxLoopbackCallbackLimit {
		return fmt.Errorf("must be 1..%d (Cognito allows %d callback URLs per app client)", MaxLoopbackCallbackLimit, maxRedirectURIs)
	}
	return nil
}

// Cognito's bounds on app-client token lifetimes (CreateUserPoolClient):
// access and ID tokens 5 minutes to 1 day, refresh tokens 1 hour to 10
// years. Lifetimes are sent in minutes, so they must be whole minutes.
const (
	MinAccessTokenValidity  = 5 * time.Minute
	MaxAccessTokenValidity  = 24 * time.Hour
	MinRefreshTokenValidity = time.Hour
	MaxRefreshTokenValidity = 3650 * 24 * time.Hour
)

// Default app-client token lifetimes, used when the operator sets none.
const (
	DefaultAccessTokenValidity  = time.Hour
	DefaultIDTokenValidity      = time.Hour
	DefaultRefreshTokenValidity = 30 * 24 * time.Hour
)

// CheckAccessTokenValidity accepts an access- or ID-token lifetime Cognito
// takes: whole minutes from [MinAccessTokenValidity] to
// [MaxAccessTokenValidity].
func CheckAccessTokenValidity(d time.Duration) error {
	return checkValidity(d, MinAccessTokenValidity, MaxAccessTokenValidity)
}

// CheckRefreshTokenValidity accepts a refresh-token lifetime Cognito takes
// (whole minutes from [MinRefreshTokenValidity] to
// [MaxRefreshTokenValidity]) that exceeds the access- and ID-token
// lifetimes: a refresh token that dies first renews nothing.
func CheckRefreshTokenValidity(refresh, access, id time.Duration) error {
	if err := checkValidity(refresh, MinRefreshTokenValidity, MaxRefreshTokenValidity); err != nil {
		return err
	}
	if refresh <= access || refresh <= id {
		return errors.New("must exceed the access and ID token validity")
	}
	return nil
}

func checkValidity(d, lo, hi time.Duration) error {
	switch {
	case d%time.Minute != 0:
		return errors.New("is not a whole number of minutes")
	case d < lo || d > hi:
		return fmt.Errorf("is outside Cognito's %s..%s", shortDuration(lo), shortDuration(hi))
	}
	return nil
}

// shortDuration drops the zero minutes and seconds of whole durations
// ("24h", not "24h0m0s").
func shortDuration(d time.Duration) string {
	s := strings.TrimSuffix(d.String(), "m0s")
	if s != d.String() {
		s += "m"
	}
	if t := strings.TrimSuffix(s, "h0m"); t != s {
		s = t + "h"
	}
	return s
}
