package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadStreamKeepalive: stream_keepalive defaults to 25s when unset, and
// an explicit 0 (from YAML or MCPGW_STREAM_KEEPALIVE) disables rather than
// falling back to the default; a negative value is refused.
func TestLoadStreamKeepalive(t *testing.T) {
	base := []string{"MCPGW_PUBLIC_URL=https://a.example", "MCPGW_ISSUER=https://i.example"}
	tests := []struct {
		name    string
		yaml    string // file content; "" means no file
		env     []string
		want    time.Duration
		wantErr string
	}{
		{name: "default", want: DefaultStreamKeepalive},
		{name: "env", env: []string{"MCPGW_STREAM_KEEPALIVE=40s"}, want: 40 * time.Second},
		{name: "env zero disables", env: []string{"MCPGW_STREAM_KEEPALIVE=0"}, want: 0},
		{name: "yaml", yaml: "stream_keepalive: 1m\n", want: time.Minute},
		{name: "yaml zero disables", yaml: "stream_keepalive: 0\n", want: 0},
		{name: "env over yaml", yaml: "stream_keepalive: 1m\n", env: []string{"MCPGW_STREAM_KEEPALIVE=10s"}, want: 10 * time.Second},
		{name: "negative", env: []string{"MCPGW_STREAM_KEEPALIVE=-5s"}, wantErr: "stream_keepalive: -5s is negative"},
		{name: "not a duration", env: []string{"MCPGW_STREAM_KEEPALIVE=soon"}, wantErr: "stream_keepalive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{DotEnv: os.DevNull, Environ: append(append([]string{}, base...), tt.env...)}
			if tt.yaml != "" {
				opts.File = filepath.Join(t.TempDir(), "gateway.yaml")
				if err := os.WriteFile(opts.File, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.StreamKeepalive == nil || *c.StreamKeepalive != tt.want {
				t.Fatalf("stream_keepalive = %v, want %s", c.StreamKeepalive, tt.want)
			}
		})
	}
}
