//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// result is what the function posted back for one invocation.
type result struct {
	id    string
	body  []byte
	error bool
}

// fakeRuntime is the AWS Lambda Runtime API (2018-06-01) as the function
// sees it: GET .../invocation/next hands out queued events; responses and
// errors are collected.
type fakeRuntime struct {
	events  chan [2]string // id, event
	results chan result
	stop    chan struct{}
}

// invocationDeadline is the deadline the fake Runtime API gives each
// invocation: generous, so that a loaded machine cannot cut one short.
const invocationDeadline = 10 * time.Minute

func newFakeRuntime(t *testing.T) (*fakeRuntime, string) {
	rt := &fakeRuntime{events: make(chan [2]string, 8), results: make(chan result, 8), stop: make(chan struct{})}
	const prefix = "/2018-06-01/runtime/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, prefix)
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == "GET" && path == "invocation/next":
			select {
			case ev := <-rt.events:
				w.Header().Set("Lambda-Runtime-Aws-Request-Id", ev[0])
				w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(invocationDeadline).UnixMilli(), 10))
				w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:mcp-dcr")
				_, _ = w.Write([]byte(ev[1]))
			case <-rt.stop:
				w.WriteHeader(http.StatusGone)
			case <-r.Context().Done():
			}
		case r.Method == "POST" && path == "init/error":
			rt.results <- result{id: "init", body: body, error: true}
		case r.Method == "POST" && strings.HasPrefix(path, "invocation/"):
			id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
			rt.results <- result{id: id, body: body, error: kind == "error"}
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(rt.stop) })
	return rt, strings.TrimPrefix(srv.URL, "http://")
}

func (rt *fakeRuntime) invoke(t *testing.T, id, event string) result {
	t.Helper()
	rt.events <- [2]string{id, event}
	select {
	case r := <-rt.results:
		if r.id != id {
			t.Fatalf("result for %q, want %q: %s", r.id, id, r.body)
		}
		return r
	case <-time.After(60 * time.Second):
		t.Fatalf("no answer to invocation %s", id)
	}
	return result{}
}

// TestLambdaHost builds the real binary (as it is deployed: -trimpath, -s
// -w), runs it against a fake Runtime API with moto behind it, and sends
// recorded API Gateway events (HTTP API payload 2.0 metadata GET, REST
// payload 1.0 registration POST), ALB target-group events (multi-value
// registration POST, single-value metadata GET) and an EventBridge
// scheduled event (gc).
// It logs the binary's size and the time from process start to the first
// response.
func TestLambdaHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	endpoint := testenv.StartMoto(t)
	pool := cognitotest.NewPool(t, cognitotest.NewAPI(t, endpoint))
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "table", "create", "--config", writeConfig(t, endpoint, pool))

	rt, addr := newFakeRuntime(t)
	started := time.Now()
	proc := testenv.Start(t, testenv.ProcessSpec{Name: "lambda", Path: bin, Env: []string{
		"AWS_LAMBDA_RUNTIME_API=" + addr,
		"MCPDCR_PUBLIC_URL=https://dcr.example.com",
		"MCPDCR_REGION=" + cognitotest.Region,
		"MCPDCR_USER_POOL_ID=" + pool,
		"MCPDCR_TABLE=mcp-dcr-test",
		"MCPDCR_AWS_ENDPOINT=" + endpoint,
		"MCPDCR_COGNITO_DOMAIN=https://auth.example.com",
		"MCPDCR_MANAGED_LOGIN_BRANDING=false",
		"MCPDCR_LOG_FORMAT=json",
	}})

	v2 := readEvent(t, "v2_get_query.json")
	r := rt.invoke(t, "req-1", v2)
	firstResponse := time.Since(started)
	var meta events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(r.body, &meta); err != nil || r.error || meta.StatusCode != 200 ||
		!strings.Contains(meta.Body, `"issuer": "https://dcr.example.com"`) || meta.Headers["Access-Control-Allow-Origin"] != "*" {
		t.Fatalf("v2 metadata: %s", r.body)
	}

	r = rt.invoke(t, "req-2", readEvent(t, "v1_post_register.json"))
	var reg events.APIGatewayProxyResponse
	if err := json.Unmarshal(r.body, &reg); err != nil || r.error || reg.StatusCode != 201 ||
		!strings.Contains(reg.Body, `"registration_access_token"`) || reg.MultiValueHeaders["Cache-Control"][0] != "no-store" {
		t.Fatalf("v1 register: %s", r.body)
	}

	// ALB target group, multi-value headers (as the stack configures it):
	// a registration; then single-value headers: the metadata.
	r = rt.invoke(t, "req-alb-1", readEvent(t, "alb_multi_post_register.json"))
	var albReg events.ALBTargetGroupResponse
	if err := json.Unmarshal(r.body, &albReg); err != nil || r.error || albReg.StatusCode != 201 ||
		albReg.StatusDescription != "201 Created" || albReg.Headers != nil ||
		!strings.Contains(albReg.Body, `"client_id":`) || albReg.MultiValueHeaders["Cache-Control"][0] != "no-store" {
		t.Fatalf("ALB multi-value register: %s", r.body)
	}
	albMeta := strings.Replace(readEvent(t, "alb_single_get_authorize.json"), `"path": "/authorize"`,
		`"path": "/.well-known/oauth-authorization-server"`, 1)
	r = rt.invoke(t, "req-alb-2", albMeta)
	var albMD events.ALBTargetGroupResponse
	if err := json.Unmarshal(r.body, &albMD); err != nil || r.error || albMD.StatusCode != 200 ||
		albMD.StatusDescription != "200 OK" || albMD.MultiValueHeaders != nil ||
		!strings.Contains(albMD.Body, `"issuer": "https://dcr.example.com"`) || albMD.Headers["Access-Control-Allow-Origin"] != "*" {
		t.Fatalf("ALB single-value metadata: %s", r.body)
	}

	if r = rt.invoke(t, "req-3", readEvent(t, "scheduled.json")); r.error || string(r.body) != `{"status":"ok"}` {
		t.Fatalf("scheduled gc: %s", r.body)
	}
	wantEMF(t, proc)
	t.Logf("Lambda binary: %.1f MiB; process start to first response (cold start incl. one ListResourceServers call): %s",
		float64(st.Size())/(1<<20), firstResponse.Round(time.Millisecond))
}

func readEvent(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "dcr", "lambdahttp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeConfig(t *testing.T, endpoint, pool string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "dcr.yaml")
	yaml := fmt.Sprintf("public_url: https://dcr.example.com\nregion: %s\nuser_pool_id: %s\ntable: mcp-dcr-test\n"+
		"aws_endpoint: %s\ncognito_domain: https://auth.example.com\nmanaged_login_branding: false\n",
		cognitotest.Region, pool, endpoint)
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// wantEMF checks the function's stdout: CloudWatch EMF lines only, each
// valid, among them the two registrations (the same public metadata:
// created, then reused), the Cognito call that made the app client and
// the requests by endpoint and status.
func wantEMF(t *testing.T, proc *testenv.Process) {
	t.Helper()
	stdout := testkit.StringerFunc(proc.Stdout)
	for _, w := range []string{
		`"mcpdcr_registrations_total":1,"reason":"none","result":"created"`,
		`"mcpdcr_registrations_total":1,"reason":"none","result":"reused"`,
		`"mcpdcr_cognito_calls_total":1,"op":"CreateUserPoolClient","result":"ok"`,
		`"endpoint":"metadata","mcpdcr_requests_total":1,"status":"200"`,
		`"endpoint":"register","mcpdcr_requests_total":1,"status":"201"`,
	} {
		testkit.WaitContains(t, stdout, w, testkit.DefaultTimeout)
	}
	if n := strings.Count(proc.Stdout(), `"result":"created"`); n != 1 {
		t.Errorf("%d registrations created on stdout, want 1", n)
	}
	out := proc.Stdout()
	out = out[:strings.LastIndex(out, "\n")+1] // whole lines only
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if _, err := testkit.CheckEMF([]byte(line)); err != nil {
			t.Errorf("stdout line is not valid EMF: %v\n%s", err, line)
		}
	}
}
