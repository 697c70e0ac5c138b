package lambdahttp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// ALBMaxResponseBytes is the largest response JSON an Application Load
// Balancer accepts from a Lambda target. AWS documents "1 MB"; the smaller
// reading (10^6 bytes) is used. A larger answer would make the load balancer
// fail the request with 502, so it is replaced by a 500 server_error.
const ALBMaxResponseBytes = 1_000_000

// serveALB serves an Application Load Balancer target-group event in the
// header mode it came in: with the target group attribute
// lambda.multi_value_headers.enabled the event carries multiValueHeaders and
// multiValueQueryStringParameters and the answer must use multiValueHeaders;
// without it, headers, queryStringParameters and headers. An event that
// cannot be turned into a request is answered 400.
func serveALB(ctx context.Context, h http.Handler, raw json.RawMessage, log *slog.Logger) (albResponse, error) {
	var e events.ALBTargetGroupRequest
	if err := json.Unmarshal(raw, &e); err != nil {
		return albResponse{}, fmt.Errorf("lambdahttp: decode ALB target group event: %w", err)
	}
	multi := e.MultiValueHeaders != nil || e.MultiValueQueryStringParameters != nil
	hdr := eventHeader(multi, e.MultiValueHeaders, e.Headers)
	rec := newRecorder()
	rawQuery, err := albQuery(&e, multi)
	var req *http.Request
	if err == nil {
		req, err = newRequest(ctx, e.HTTPMethod, albPath(e.Path), rawQuery, hdr.Get("Host"), hdr,
			e.Body, e.IsBase64Encoded, lastForwardedFor(hdr))
	}
	if err != nil {
		rec.header.Set("Content-Type", "text/plain; charset=utf-8")
		rec.WriteHeader(http.StatusBadRequest)
		rec.body.WriteString(err.Error() + "\n")
	} else {
		h.ServeHTTP(rec, req)
	}
	out := albAnswer(rec, multi, log)
	if b, err := json.Marshal(out); err != nil || len(b) > ALBMaxResponseBytes {
		log.Error("lambdahttp: answer too large for the load balancer; answered 500 instead",
			"path", e.Path, "status", rec.status, "json_bytes", len(b), "limit", ALBMaxResponseBytes, "error", err)
		rec = newRecorder()
		bearer.WriteJSON(rec, &bearer.Error{Status: http.StatusInternalServerError, Code: dcr.CodeServerError,
			Description: "the response is too large for the load balancer"})
		out = albAnswer(rec, multi, log)
	}
	return out, nil
}

// albQuery rebuilds the query string from the event's parameters. Unlike
// API Gateway, ALB passes keys and values as the client sent them (still
// percent-encoded, '+' for a space), so each is decoded with
// url.QueryUnescape and the whole re-encoded: r.URL.Query() then sees what
// the client meant. In single-value mode ALB has already kept only the last
// value of a repeated key. A parameter that is not valid percent-encoding is
// an error (answered 400).
func albQuery(e *events.ALBTargetGroupRequest, multi bool) (string, error) {
	q := url.Values{}
	add := func(k, v string) error {
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return fmt.Errorf("lambdahttp: query parameter name %q: %w", k, err)
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return fmt.Errorf("lambdahttp: query parameter %q: %w", k, err)
		}
		q[dk] = append(q[dk], dv)
		return nil
	}
	if multi {
		for k, vs := range e.MultiValueQueryStringParameters {
			for _, v := range vs {
				if err := add(k, v); err != nil {
					return "", err
				}
			}
		}
	} else {
		for k, v := range e.QueryStringParameters {
			if err := add(k, v); err != nil {
				return "", err
			}
		}
	}
	return q.Encode(), nil
}

// albPath returns the event's path as an escaped request path. ALB passes
// the path as received (it does not decode it, as with the query), so a
// path that is valid percent-encoding is kept as it is; any other is
// escaped.
func albPath(p string) string {
	if _, err := url.PathUnescape(p); err == nil {
		return p
	}
	return (&url.URL{Path: p}).EscapedPath()
}

// lastForwardedFor returns the last X-Forwarded-For entry: ALB events carry
// no source address, and ALB (routing.http.xff_header_processing.mode
// "append", the default) appends the connecting peer's address as the last
// entry, after whatever the client sent. An entry with a port
// (routing.http.xff_client_port.enabled) gives its address. Empty when the header is
// missing or its last entry is not an IP address: the request then has no
// RemoteAddr. NOT checked: the processing mode; with "preserve" the last
// entry is the client's choice.
func lastForwardedFor(hdr http.Header) string {
	vs := hdr.Values("X-Forwarded-For")
	if len(vs) == 0 {
		return ""
	}
	last := vs[len(vs)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimSpace(last)
	if ip, err := netip.ParseAddr(last); err == nil {
		return ip.String()
	}
	if ap, err := netip.ParseAddrPort(last); err == nil {
		return ap.Addr().String()
	}
	return ""
}

// albAnswer converts the recorded response: statusCode, statusDescription
// ("200 OK"), the body (base64 unless textual) and the headers in the
// request's mode. Single-value headers join repeated values with ", "
// (RFC 9110 §5.3) except Set-Cookie, which cannot be combined (RFC 6265
// §3): only the first is sent and the loss is logged.
func albAnswer(rec *recorder, multi bool, log *slog.Logger) albResponse {
	body, b64 := encodeBody(rec)
	out := events.ALBTargetGroupResponse{StatusCode: rec.status, StatusDescription: statusDescription(rec.status),
		Body: body, IsBase64Encoded: b64}
	if multi {
		out.MultiValueHeaders = make(map[string][]string, len(rec.header))
		for k, vs := range rec.header {
			out.MultiValueHeaders[k] = append([]string(nil), vs...)
		}
		return albResponse{out}
	}
	out.Headers = make(map[string]string, len(rec.header))
	for k, vs := range rec.header {
		if k == "Set-Cookie" && len(vs) > 1 {
			log.Warn("lambdahttp: several Set-Cookie headers and the target group has no multi-value headers; only the first is sent",
				"dropped", len(vs)-1)
			out.Headers[k] = vs[0]
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	return albResponse{out}
}

// statusDescription is ALB's "code reason-phrase", e.g. "200 OK".
func statusDescription(code int) string {
	text := http.StatusText(code)
	if text == "" {
		text = "Unknown"
	}
	return strconv.Itoa(code) + " " + text
}

// albResponse is the answer to an ALB event. It marshals as
// events.ALBTargetGroupResponse but leaves out the header member of the
// other mode instead of sending it as null, and always sends the one in use
// (possibly {}): the response shapes AWS documents for each mode.
type albResponse struct {
	events.ALBTargetGroupResponse
}

// MarshalJSON implements json.Marshaler.
func (r albResponse) MarshalJSON() ([]byte, error) {
	type wire struct {
		StatusCode        int                 `json:"statusCode"`
		StatusDescription string              `json:"statusDescription"`
		Headers           map[string]string   `json:"headers,omitzero"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitzero"`
		Body              string              `json:"body,omitempty"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	return json.Marshal(wire(r.ALBTargetGroupResponse))
}

var _ json.Marshaler = albResponse{}
