package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// serveV2 serves an HTTP API payload 2.0 event.
func serveV2(ctx context.Context, h http.Handler, raw json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("lambdahttp: decode payload 2.0 event: %w", err)
	}
	hdr := http.Header{}
	for k, v := range e.Headers {
		hdr.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		hdr.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	host := hdr.Get("Host")
	if host == "" {
		host = e.RequestContext.DomainName
	}
	req, err := newRequest(ctx, e.RequestContext.HTTP.Method, e.RawPath, e.RawQueryString, host, hdr,
		e.Body, e.IsBase64Encoded, e.RequestContext.HTTP.SourceIP)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: err.Error() + "\n",
			Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}, nil
	}
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	body, b64 := encodeBody(rec)
	out := events.APIGatewayV2HTTPResponse{StatusCode: rec.status, Headers: map[string]string{},
		Body: body, IsBase64Encoded: b64}
	for k, vs := range rec.header {
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	return out, nil
}

// serveV1 serves a REST API (payload 1.0) event.
func serveV1(ctx context.Context, h http.Handler, raw json.RawMessage) (events.APIGatewayProxyResponse, error) {
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return events.APIGatewayProxyResponse{}, fmt.Errorf("lambdahttp: decode payload 1.0 event: %w", err)
	}
	hdr := eventHeader(len(e.MultiValueHeaders) > 0, e.MultiValueHeaders, e.Headers)
	q := url.Values{}
	if len(e.MultiValueQueryStringParameters) > 0 {
		for k, vs := range e.MultiValueQueryStringParameters {
			q[k] = append(q[k], vs...)
		}
	} else {
		for k, v := range e.QueryStringParameters {
			q.Set(k, v)
		}
	}
	host := hdr.Get("Host")
	if host == "" {
		host = e.RequestContext.DomainName
	}
	path := (&url.URL{Path: e.Path}).EscapedPath()
	req, err := newRequest(ctx, e.HTTPMethod, path, q.Encode(), host, hdr, e.Body, e.IsBase64Encoded,
		e.RequestContext.Identity.SourceIP)
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: err.Error() + "\n",
			Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}, nil
	}
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	body, b64 := encodeBody(rec)
	out := events.APIGatewayProxyResponse{StatusCode: rec.status, MultiValueHeaders: map[string][]string{},
		Body: body, IsBase64Encoded: b64}
	for k, vs := range rec.header {
		out.MultiValueHeaders[k] = append([]string(nil), vs...)
	}
	return out, nil
}

// newRequest builds the server-side request: escaped path plus raw query,
// body decoded from base64 when flagged, RemoteAddr = sourceIP:0.
func newRequest(ctx context.Context, method, rawPath, rawQuery, host string, hdr http.Header,
	body string, b64 bool, sourceIP string) (*http.Request, error) {
	if rawPath == "" {
		rawPath = "/"
	}
	u, err := url.ParseRequestURI(rawPath)
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: path %q: %w", rawPath, err)
	}
	u.RawQuery = rawQuery
	data := []byte(body)
	if b64 {
		if data, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, fmt.Errorf("lambdahttp: body is flagged base64 but is not: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("lambdahttp: request: %w", err)
	}
	req.Header = hdr
	req.Host = host
	req.RequestURI = u.RequestURI()
	if sourceIP != "" {
		req.RemoteAddr = net.JoinHostPort(sourceIP, "0")
	}
	return req, nil
}

// encodeBody returns the recorded body, base64-encoded unless it is valid
// UTF-8 of a textual media type (API Gateway passes text as it is).
func encodeBody(rec *recorder) (string, bool) {
	b := rec.body.Bytes()
	if len(b) == 0 {
		return "", false
	}
	if textual(rec.header.Get("Content-Type")) && utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

func textual(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// recorder is the http.ResponseWriter a Lambda invocation answers through.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.header.Get("Content-Type") == "" && r.body.Len() == 0 {
		r.header.Set("Content-Type", http.DetectContentType(b))
	}
	return r.body.Write(b)
}

var _ http.ResponseWriter = (*recorder)(nil)

// eventHeader builds a request header from an event's multi-value headers
// (when multi) or its single-value ones: REST (payload 1.0) and ALB events
// carry one form or the other.
func eventHeader(multi bool, mv map[string][]string, sv map[string]string) http.Header {
	hdr := http.Header{}
	if multi {
		for k, vs := range mv {
			for _, v := range vs {
				hdr.Add(k, v)
			}
		}
		return hdr
	}
	for k, v := range sv {
		hdr.Set(k, v)
	}
	return hdr
}
