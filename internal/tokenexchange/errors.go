package tokenexchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// Error is the authorization server's refusal of an exchange: its HTTP
// status and RFC 6749 §5.2 error response (RFC 8693 §2.2.2 adds
// invalid_target; Entra adds interaction_required and a suberror such as
// consent_required). Its text carries the code and description only, never
// the request's tokens or the client's credentials.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the "error" member ("" when the answer had none).
	Code string
	// Description is "error_description", cut to 200 bytes.
	Description string
	// Suberror is Entra's "suberror" member (for example consent_required).
	Suberror string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "token endpoint answered %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Suberror != "" {
		fmt.Fprintf(&b, " (%s)", e.Suberror)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	return b.String()
}

// maxDescription bounds the description kept from an error answer.
const maxDescription = 200

// refusal turns an x/oauth2 retrieval error into an *Error; other errors
// (network, timeout, a malformed answer) are returned wrapped as they are.
// Any of secrets (the request's subject token and client credentials) that
// the answer echoes is redacted from the *Error's members.
func refusal(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	e := &Error{Code: clean(re.ErrorCode, secrets), Description: clean(re.ErrorDescription, secrets)}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	if len(e.Description) > maxDescription {
		// Cut on a character boundary, so that the text stays UTF-8.
		n := maxDescription
		for n > 0 && !utf8.RuneStart(e.Description[n]) {
			n--
		}
		e.Description = e.Description[:n]
	}
	var extra struct {
		Suberror string `json:"suberror"`
	}
	if json.Unmarshal(re.Body, &extra) == nil {
		e.Suberror = clean(extra.Suberror, secrets)
	}
	return e
}

// clean makes s printable and redacts every non-empty secret in it.
func clean(s string, secrets []string) string {
	s = printable(s)
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}

// printable drops control characters (C0, DEL and C1, NEL included), so an
// answer cannot forge log lines.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
