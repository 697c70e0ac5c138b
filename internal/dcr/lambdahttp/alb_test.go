package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/lambdahttp"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// albAnswer is an ALB answer as the Lambda runtime sends it: its JSON, the
// members present, and the decoded response.
type albAnswer struct {
	raw     []byte
	members map[string]json.RawMessage
	resp    events.ALBTargetGroupResponse
}

// invokeALB runs h on event and marshals the answer as the runtime does.
func invokeALB(t *testing.T, h http.Handler, log *slog.Logger, event json.RawMessage) albAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	out, err := lambdahttp.Handler(h, nil, log)(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	a := albAnswer{}
	if a.raw, err = json.Marshal(out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.raw, &a.members); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.raw, &a.resp); err != nil {
		t.Fatal(err)
	}
	return a
}

// checkMode: the answer uses the header member of the request's mode only.
func (a albAnswer) checkMode(t *testing.T, multi bool) {
	t.Helper()
	_, hasMulti := a.members["multiValueHeaders"]
	_, hasSingle := a.members["headers"]
	if hasMulti != multi || hasSingle == multi {
		t.Fatalf("multi-value mode %v answered with members %s", multi, a.raw[:min(len(a.raw), 300)])
	}
	if _, ok := a.members["statusDescription"]; !ok {
		t.Fatalf("no statusDescription: %s", a.raw)
	}
}

// header returns the answer's values of k in either mode.
func (a albAnswer) header(k string) []string {
	if a.resp.MultiValueHeaders != nil {
		return a.resp.MultiValueHeaders[k]
	}
	if v, ok := a.resp.Headers[k]; ok {
		return []string{v}
	}
	return nil
}

// withEvent loads a recorded event and applies edit to its JSON object.
func withEvent(t *testing.T, name string, edit func(ev map[string]any)) json.RawMessage {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(load(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// setHeader sets one request header in whichever mode the event uses.
func setHeader(ev map[string]any, k string, vs ...string) {
	if mv, ok := ev["multiValueHeaders"].(map[string]any); ok {
		if vs == nil {
			delete(mv, k)
			return
		}
		mv[k] = vs
		return
	}
	hd := ev["headers"].(map[string]any)
	if vs == nil {
		delete(hd, k)
		return
	}
	hd[k] = vs[len(vs)-1]
}

// TestALBRecordedEvents serves recorded ALB events of both header modes
// through the echo handler and compares the answers with golden files: the
// answer's header member follows the request's mode, the query is decoded
// (ALB leaves it percent-encoded), the body is decoded from base64 or taken
// as it is, RemoteAddr is the last X-Forwarded-For entry, and Host,
// X-Forwarded-Proto and X-Forwarded-Port pass through.
func TestALBRecordedEvents(t *testing.T) {
	wantBody := `{"redirect_uris":["http://localhost:3334/callback"],"client_name":"Claude Code (mcp)",` +
		`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`
	authorizeQuery := map[string][]string{
		"response_type": {"code"},
		"client_id":     {"https://claude.ai/oauth/mcp-oauth-client-metadata"},
		"redirect_uri":  {"http://localhost:3334/callback"},
		"scope":         {"openid https://mcp.example.com/mcp/tools"},
		"state":         {"x+y z"},
	}
	tests := []struct {
		file    string
		multi   bool
		method  string
		path    string
		query   map[string][]string
		tag     []string // the repeated key: both values, or ALB's last in single-value mode
		remote  string
		body    string
		custom  []string
		cookies []string
	}{
		{file: "alb_multi_get_authorize.json", multi: true, method: "GET", path: "/authorize", query: authorizeQuery,
			tag: []string{"a", "b"}, remote: "198.51.100.23:0", custom: []string{"one", "two"},
			cookies: []string{"session=abc123", "theme=dark"}},
		{file: "alb_single_get_authorize.json", method: "GET", path: "/authorize", query: authorizeQuery,
			tag: []string{"b"}, remote: "198.51.100.23:0", custom: []string{"two"},
			cookies: []string{"session=abc123", "theme=dark"}},
		{file: "alb_multi_post_register.json", multi: true, method: "POST", path: "/register",
			remote: "203.0.113.7:0", body: wantBody},
		{file: "alb_single_post_register.json", method: "POST", path: "/register",
			remote: "[2001:db8:85a3::8a2e:370:7334]:0", body: wantBody},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := invokeALB(t, echoHandler(), nil, load(t, tt.file))
			var pretty bytes.Buffer // indented, members in the order sent
			if err := json.Indent(&pretty, a.raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", "golden", tt.file), append(pretty.Bytes(), '\n'))
			a.checkMode(t, tt.multi)
			if a.resp.StatusCode != http.StatusCreated || a.resp.StatusDescription != "201 Created" {
				t.Fatalf("status %d %q", a.resp.StatusCode, a.resp.StatusDescription)
			}
			if !slices.Equal(a.header("Content-Type"), []string{"application/json"}) {
				t.Errorf("Content-Type %q", a.header("Content-Type"))
			}
			wantCookies, wantMulti := []string{"a=1; Path=/"}, []string{"one, two"}
			if tt.multi {
				wantCookies, wantMulti = []string{"a=1; Path=/", "b=2; Path=/"}, []string{"one", "two"}
			}
			if !slices.Equal(a.header("Set-Cookie"), wantCookies) || !slices.Equal(a.header("X-Multi"), wantMulti) {
				t.Errorf("Set-Cookie %q, X-Multi %q", a.header("Set-Cookie"), a.header("X-Multi"))
			}
			wantVary, wantAuth := []string{"Origin, Accept-Encoding"}, []string{`Bearer realm="mcp-dcr", Basic realm="mcp-dcr"`}
			if tt.multi {
				wantVary, wantAuth = []string{"Origin", "Accept-Encoding"}, []string{`Bearer realm="mcp-dcr"`, `Basic realm="mcp-dcr"`}
			}
			if !slices.Equal(a.header("Vary"), wantVary) || !slices.Equal(a.header("Www-Authenticate"), wantAuth) {
				t.Errorf("Vary %q, WWW-Authenticate %q", a.header("Vary"), a.header("Www-Authenticate"))
			}
			s := decodeSeen(t, a.resp.Body, a.resp.IsBase64Encoded)
			if s.Method != tt.method || s.Path != tt.path || s.RemoteAddr != tt.remote || s.Host != "mcp.example.com" ||
				s.Body != tt.body || !s.Deadline {
				t.Fatalf("request seen as %+v", s)
			}
			for k, v := range tt.query {
				if !slices.Equal(s.Query[k], v) {
					t.Errorf("query %s = %q, want %q", k, s.Query[k], v)
				}
			}
			if !slices.Equal(s.Query["tag"], tt.tag) || len(s.Query) != len(tt.query)+min(len(tt.tag), 1) {
				t.Errorf("query %v", s.Query)
			}
			for k, v := range map[string][]string{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Port": {"443"},
				"X-Custom": tt.custom} {
				if !slices.Equal(s.Header[k], v) {
					t.Errorf("header %s = %q, want %q", k, s.Header[k], v)
				}
			}
			if !slices.Equal(s.Cookies, tt.cookies) {
				t.Errorf("cookies %q, want %q", s.Cookies, tt.cookies)
			}
		})
	}
}

// TestALBForwardedFor: RemoteAddr is the last X-Forwarded-For entry (the
// peer ALB appended), whatever the client put before it.
func TestALBForwardedFor(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		xff    []string
		remote string
	}{
		{"peer only", "alb_multi_post_register.json", []string{"203.0.113.7"}, "203.0.113.7:0"},
		{"client prefix", "alb_multi_post_register.json", []string{"192.0.2.1, 10.0.0.1,203.0.113.7"}, "203.0.113.7:0"},
		{"several header lines", "alb_multi_post_register.json", []string{"192.0.2.1", "192.0.2.2, 203.0.113.7"}, "203.0.113.7:0"},
		{"client port kept by ALB", "alb_single_post_register.json", []string{"192.0.2.1, 203.0.113.7:51234"}, "203.0.113.7:0"},
		{"IPv6 with port", "alb_single_post_register.json", []string{"[2001:db8::1]:443"}, "[2001:db8::1]:0"},
		{"IPv4-mapped", "alb_single_post_register.json", []string{"::ffff:203.0.113.7"}, "[::ffff:203.0.113.7]:0"},
		{"last entry not an address", "alb_multi_post_register.json", []string{"203.0.113.7, unknown"}, ""},
		{"no header", "alb_single_post_register.json", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := withEvent(t, tt.file, func(ev map[string]any) { setHeader(ev, "x-forwarded-for", tt.xff...) })
			a := invokeALB(t, echoHandler(), nil, ev)
			if s := decodeSeen(t, a.resp.Body, a.resp.IsBase64Encoded); s.RemoteAddr != tt.remote {
				t.Fatalf("RemoteAddr %q, want %q", s.RemoteAddr, tt.remote)
			}
		})
	}
}

// TestALBBodies: binary answers are base64 in both modes; a request body
// flagged base64 that is not, or a query that is not valid percent-encoding,
// is answered 400 in the request's mode; an empty answer has no body member.
func TestALBBodies(t *testing.T) {
	for _, file := range []string{"alb_multi_get_authorize.json", "alb_single_get_authorize.json"} {
		multi := strings.Contains(file, "multi")
		t.Run(file, func(t *testing.T) {
			a := invokeALB(t, echoHandler(), nil, withEvent(t, file, func(ev map[string]any) { ev["path"] = "/binary" }))
			a.checkMode(t, multi)
			got, err := base64.StdEncoding.DecodeString(a.resp.Body)
			if !a.resp.IsBase64Encoded || err != nil || string(got) != "\x89PNG\x00\xff" || a.resp.StatusDescription != "200 OK" {
				t.Fatalf("binary answer %s", a.raw)
			}

			a = invokeALB(t, echoHandler(), nil, withEvent(t, file, func(ev map[string]any) {
				ev["body"], ev["isBase64Encoded"] = "!!!", true
			}))
			a.checkMode(t, multi)
			if a.resp.StatusCode != http.StatusBadRequest || a.resp.StatusDescription != "400 Bad Request" {
				t.Fatalf("bad base64 body: %s", a.raw)
			}

			a = invokeALB(t, echoHandler(), nil, withEvent(t, file, func(ev map[string]any) {
				if multi {
					ev["multiValueQueryStringParameters"].(map[string]any)["bad"] = []string{"50%zz"}
				} else {
					ev["queryStringParameters"].(map[string]any)["bad"] = "50%zz"
				}
			}))
			a.checkMode(t, multi)
			if a.resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("bad query encoding: %s", a.raw)
			}

			empty := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
			a = invokeALB(t, empty, nil, load(t, file))
			a.checkMode(t, multi)
			if _, ok := a.members["body"]; ok || a.resp.StatusDescription != "204 No Content" {
				t.Fatalf("empty answer: %s", a.raw)
			}
		})
	}
}

// TestALBResponseLimit: an answer whose JSON would exceed the ALB's 1 MB
// limit (text, or binary that base64 inflates past it) becomes a 500
// server_error JSON answer in the request's mode, and is logged; one just
// under the limit passes.
func TestALBResponseLimit(t *testing.T) {
	sized := func(ct string, n int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Header().Add("Vary", "Origin")
			_, _ = w.Write([]byte(strings.Repeat("x", n)))
		})
	}
	tests := []struct {
		name   string
		h      http.Handler
		status int
	}{
		{"text under the limit", sized("text/plain", lambdahttp.ALBMaxResponseBytes-1000), http.StatusOK},
		{"text over the limit", sized("text/plain", lambdahttp.ALBMaxResponseBytes), http.StatusInternalServerError},
		{"binary inflated by base64", sized("application/octet-stream", 800_000), http.StatusInternalServerError},
	}
	for _, file := range []string{"alb_multi_get_authorize.json", "alb_single_get_authorize.json"} {
		for _, tt := range tests {
			t.Run(file+"/"+tt.name, func(t *testing.T) {
				var logs testkit.SafeBuffer
				a := invokeALB(t, tt.h, slog.New(slog.NewTextHandler(&logs, nil)), load(t, file))
				a.checkMode(t, strings.Contains(file, "multi"))
				if len(a.raw) > lambdahttp.ALBMaxResponseBytes || a.resp.StatusCode != tt.status {
					t.Fatalf("status %d, %d bytes of JSON", a.resp.StatusCode, len(a.raw))
				}
				if tt.status == http.StatusOK {
					if logs.Len() != 0 || !slices.Equal(a.header("Vary"), []string{"Origin"}) {
						t.Fatalf("logs %q, headers %v %v", logs.String(), a.resp.Headers, a.resp.MultiValueHeaders)
					}
					return
				}
				var e map[string]string
				if err := json.Unmarshal([]byte(a.resp.Body), &e); err != nil || e["error"] != "server_error" ||
					a.resp.StatusDescription != "500 Internal Server Error" || a.resp.IsBase64Encoded ||
					!slices.Equal(a.header("Content-Type"), []string{"application/json"}) {
					t.Fatalf("oversized answer replaced by %s", a.raw)
				}
				if !strings.Contains(logs.String(), "too large for the load balancer") {
					t.Errorf("not logged: %q", logs.String())
				}
			})
		}
	}
}

// TestALBDetection: an ALB event is told from API Gateway REST events
// (both have httpMethod) by requestContext.elb.targetGroupArn.
func TestALBDetection(t *testing.T) {
	ev := withEvent(t, "alb_multi_get_authorize.json", func(ev map[string]any) {
		ev["requestContext"] = map[string]any{"elb": map[string]any{"targetGroupArn": ""}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	out, err := lambdahttp.Handler(echoHandler(), nil, nil)(ctx, ev)
	if _, ok := out.(events.APIGatewayProxyResponse); err != nil || !ok {
		t.Fatalf("an event without targetGroupArn is served as REST: %T, %v", out, err)
	}
	a := invokeALB(t, echoHandler(), nil, load(t, "alb_multi_get_authorize.json"))
	a.checkMode(t, true)
}

// TestALBPath: ALB passes the path as received, so a percent-encoded path
// is not encoded again; a path that is not valid percent-encoding is
// escaped rather than refused.
func TestALBPath(t *testing.T) {
	for path, want := range map[string]string{
		"/register/a%20b%2Fc": "/register/a b/c",
		"/register/50%zz":     "/register/50%zz",
		"":                    "/",
	} {
		ev := withEvent(t, "alb_single_get_authorize.json", func(ev map[string]any) { ev["path"] = path })
		a := invokeALB(t, echoHandler(), nil, ev)
		if s := decodeSeen(t, a.resp.Body, a.resp.IsBase64Encoded); s.Path != want {
			t.Errorf("path %q seen as %q, want %q", path, s.Path, want)
		}
	}
}
