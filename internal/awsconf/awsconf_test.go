package awsconf

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// isolate clears every credential and config source the default chain reads,
// so the test sees only what it sets.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range append(credentialEnv, "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL") {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name         string
		region       string
		endpoint     string
		env          map[string]string
		wantErr      string
		wantEndpoint string
		wantKeyID    string // "" means: do not retrieve credentials
	}{
		{name: "region required", endpoint: "http://127.0.0.1:5000", wantErr: "region is required"},
		{name: "relative endpoint", region: "us-east-1", endpoint: "127.0.0.1:5000", wantErr: "not an absolute"},
		{name: "ftp endpoint", region: "us-east-1", endpoint: "ftp://127.0.0.1:5000", wantErr: "not an absolute"},
		{name: "emulator without env credentials gets dummy ones", region: "us-east-1",
			endpoint: "http://127.0.0.1:5000", wantEndpoint: "http://127.0.0.1:5000", wantKeyID: EmulatorAccessKeyID},
		{name: "emulator keeps env credentials", region: "us-east-1", endpoint: "http://127.0.0.1:5000",
			env:          map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"},
			wantEndpoint: "http://127.0.0.1:5000", wantKeyID: "AKIDENV"},
		{name: "no endpoint uses the default chain", region: "eu-west-1",
			env:       map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"},
			wantKeyID: "AKIDENV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(context.Background(), tc.region, tc.endpoint)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.region {
				t.Errorf("Region = %q, want %q", cfg.Region, tc.region)
			}
			got := ""
			if cfg.BaseEndpoint != nil {
				got = *cfg.BaseEndpoint
			}
			if got != tc.wantEndpoint {
				t.Errorf("BaseEndpoint = %q, want %q", got, tc.wantEndpoint)
			}
			if n := cfg.Retryer().MaxAttempts(); n != MaxAttempts {
				t.Errorf("MaxAttempts = %d, want %d", n, MaxAttempts)
			}
			hc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
			if !ok || hc.GetTimeout() != HTTPTimeout {
				t.Errorf("HTTPClient = %T, want a BuildableClient with timeout %v", cfg.HTTPClient, HTTPTimeout)
			}
			if tc.wantKeyID != "" {
				creds, err := cfg.Credentials.Retrieve(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if creds.AccessKeyID != tc.wantKeyID {
					t.Errorf("AccessKeyID = %q, want %q", creds.AccessKeyID, tc.wantKeyID)
				}
			}
		})
	}
}
