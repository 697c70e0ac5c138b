package dcrmetrics_test

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrmetrics"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// lines splits EMF output into its lines, each checked with testkit.CheckEMF.
func lines(t *testing.T, out []byte) [][]byte {
	t.Helper()
	ls := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	for i, l := range ls {
		if _, err := testkit.CheckEMF(l); err != nil {
			t.Errorf("line %d is not valid EMF: %v\n%s", i+1, err, l)
		}
	}
	return ls
}

// TestEMFGolden pins the lines of every measurement for a fixed clock and
// checks that each is valid EMF.
func TestEMFGolden(t *testing.T) {
	var out bytes.Buffer
	e := dcrmetrics.NewEMF(&out, "", testkit.NewClock(start).Now)
	e.Request(dcr.EndpointRegister, 201)
	e.Registration(dcr.ResultCreated, dcr.ReasonNone)
	e.Registration(dcr.ResultRefused, dcr.CodeInvalidRedirectURI)
	e.RateLimited(dcr.EndpointRegister)
	e.CognitoCall("CreateUserPoolClient", dcr.CognitoOK, 125*time.Millisecond)
	e.CIMDFetch(dcr.CIMDCacheHit)
	if n := len(lines(t, out.Bytes())); n != 6 {
		t.Fatalf("%d lines, want one per measurement (6)", n)
	}
	testkit.Golden(t, "testdata/emf.jsonl", out.Bytes())
}

// TestEMFRegistrations proves the lines the real HTTP handler's three
// registrations (created, refused for the redirect URI, rate limited)
// produce are valid EMF, in the mcp-dcr namespace, with the metrics and
// dimension values of the Prometheus series.
func TestEMFRegistrations(t *testing.T) {
	var out testkit.SafeBuffer
	registerThree(t, dcrmetrics.NewEMF(&out, "", time.Now))
	// The request lines are written as the handler returns.
	testkit.WaitFor(t, testkit.DefaultTimeout, func() bool {
		return strings.Count(out.String(), `"mcpdcr_requests_total":1`) == 3
	}, "three request lines")
	var got []string
	for _, l := range lines(t, out.Bytes()) {
		if !bytes.Contains(l, []byte(`"Namespace":"mcp-dcr"`)) {
			t.Errorf("namespace: %s", l)
		}
		names, _ := testkit.CheckEMF(l)
		got = append(got, strings.Join(names, "+")+" "+dims(l))
	}
	sort.Strings(got)
	want := []string{
		"mcpdcr_rate_limited_total endpoint=register",
		"mcpdcr_registrations_total reason=invalid_redirect_uri result=refused",
		"mcpdcr_registrations_total reason=none result=created",
		"mcpdcr_registrations_total reason=rate_limited result=refused",
		"mcpdcr_requests_total endpoint=register status=201",
		"mcpdcr_requests_total endpoint=register status=400",
		"mcpdcr_requests_total endpoint=register status=429",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("lines:\n got %q\nwant %q", got, want)
	}
}

// dims renders a line's dimension members, sorted: "k=v k=v".
func dims(line []byte) string {
	var parts []string
	for _, k := range []string{"endpoint", "op", "reason", "result", "status"} {
		if v := member(line, k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// member returns the string member k of a one-line JSON object, or "".
func member(line []byte, k string) string {
	_, after, ok := bytes.Cut(line, []byte(`"`+k+`":"`))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(after, []byte(`"`))
	return string(v)
}
