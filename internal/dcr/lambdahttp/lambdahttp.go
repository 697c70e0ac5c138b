// Package lambdahttp runs an http.Handler as an AWS Lambda function behind
// Amazon API Gateway or an Application Load Balancer, and routes scheduled
// events to a callback, so that mcp-dcr serves Lambda and local HTTP from the
// same handler.
//
// Accepted events (detected from the JSON, so one function can receive all):
//
//   - API Gateway HTTP API, payload format 2.0 ("version":"2.0" with
//     requestContext.http): answered with events.APIGatewayV2HTTPResponse;
//   - Application Load Balancer target-group events
//     (requestContext.elb.targetGroupArn): answered in the event's header
//     mode, multiValueHeaders when the target group has
//     lambda.multi_value_headers.enabled, else headers (see
//     events.ALBTargetGroupResponse). ALB passes query parameters still
//     percent-encoded; they are decoded here. The request's RemoteAddr is
//     the LAST X-Forwarded-For entry, the peer ALB appended (ALB events carry
//     no source address); the entries before it are the client's to choose.
//     This relies on the load balancer's default
//     routing.http.xff_header_processing.mode "append", which is NOT checked;
//     Answers whose JSON would exceed ALB's 1 MB limit
//     ([ALBMaxResponseBytes]) become a 500 server_error;
//   - API Gateway REST API (or HTTP API payload format 1.0): any other event
//     with "httpMethod"; answered with events.APIGatewayProxyResponse;
//   - EventBridge scheduled events ("source":"aws.events",
//     "detail-type":"Scheduled Event"), and {"command":"gc"} (an EventBridge
//     Scheduler input or a manual `aws lambda invoke`): onSchedule runs.
//
// Not supported: WebSocket APIs, response streaming, ALB health-check
// specifics (a health check is served as any other request), request bodies
// beyond ALB's 1 MB or Lambda's 6 MB payload limit (refused before the
// function runs), and API Gateway responses beyond 6 MB.
package lambdahttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// ErrUnsupportedEvent is returned for an event of none of the accepted kinds.
var ErrUnsupportedEvent = errors.New("lambdahttp: unsupported event (want API Gateway v1 or v2, ALB, or a scheduled event)")

// probe holds the members that tell the event kinds apart.
type probe struct {
	Version        string `json:"version"`
	HTTPMethod     string `json:"httpMethod"`
	Source         string `json:"source"`
	DetailType     string `json:"detail-type"`
	Command        string `json:"command"`
	RequestContext struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
		ELB struct {
			TargetGroupArn string `json:"targetGroupArn"`
		} `json:"elb"`
	} `json:"requestContext"`
}

// Handler returns the function lambda.Start runs: it decodes the event,
// serves API Gateway and ALB requests with h (the request's context is the
// invocation's, with its deadline moved ReserveTime earlier so that a slow
// AWS call is cancelled and answered while the function can still reply) and
// calls onSchedule for scheduled events. An HTTP event that cannot be turned
// into a request (bad base64 body, unparsable path or query) is answered
// 400, not failed, so that the front door does not turn it into a 502. A nil
// onSchedule refuses scheduled events. log gets the answers this package
// had to alter (an oversized ALB answer, Set-Cookie headers dropped); nil
// discards.
func Handler(h http.Handler, onSchedule func(ctx context.Context) error, log *slog.Logger) func(ctx context.Context, event json.RawMessage) (any, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		ctx, cancel := withReserve(ctx)
		defer cancel()
		var p probe
		if err := json.Unmarshal(event, &p); err != nil {
			return nil, fmt.Errorf("lambdahttp: event is not a JSON object: %w", err)
		}
		switch {
		case p.Version == "2.0" && p.RequestContext.HTTP != nil:
			return serveV2(ctx, h, event)
		case p.RequestContext.ELB.TargetGroupArn != "":
			return serveALB(ctx, h, event, log)
		case p.HTTPMethod != "":
			return serveV1(ctx, h, event)
		case (p.Source == "aws.events" && p.DetailType == "Scheduled Event") || p.Command == "gc":
			if onSchedule == nil {
				return nil, errors.New("lambdahttp: scheduled event received but no schedule handler is set")
			}
			if err := onSchedule(ctx); err != nil {
				return nil, fmt.Errorf("lambdahttp: scheduled run: %w", err)
			}
			return map[string]string{"status": "ok"}, nil
		default:
			return nil, ErrUnsupportedEvent
		}
	}
}

// ReserveTime is kept back from the invocation's deadline for writing the
// answer: calls still running then are cancelled.
const ReserveTime = 500 * time.Millisecond

func withReserve(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, d.Add(-ReserveTime))
}
