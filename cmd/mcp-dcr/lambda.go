package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dcrmetrics"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/lambdahttp"
)

// runLambda serves API Gateway and Application Load Balancer events with the
// handler `serve` uses and runs gc on scheduled events. Configuration comes
// from the function's environment (MCPDCR_*; no flags under Lambda). Wiring
// happens once per execution environment (cold start), before the first
// event. Behind an ALB, MCPDCR_TRUST_FORWARDED_FOR must stay off: the rate
// limit keys on the address ALB appended (see lambdahttp). Metrics are
// CloudWatch Embedded Metric Format lines on stdout (namespace mcp-dcr),
// which CloudWatch Logs turns into metrics; there is no /metrics route.
func runLambda() error {
	ctx := context.Background()
	cfg, err := config.LoadDCR(config.LoadOptions{})
	if err != nil {
		return err
	}
	a, err := wire(ctx, cfg, dcrmetrics.NewEMF(os.Stdout, dcrmetrics.DefaultNamespace, time.Now))
	if err != nil {
		return err
	}
	h, err := a.handler()
	if err != nil {
		return err
	}
	a.log.Info("mcp-dcr: Lambda handler ready", "version", version, "public_url", cfg.PublicURL, "cimd", cfg.CIMD())
	lambda.Start(lambdahttp.Handler(h, func(ctx context.Context) error {
		_, err := a.gc(ctx, false)
		return err
	}, a.log))
	return fmt.Errorf("lambda runtime returned")
}
