//go:build unix

package cloudformation_test

// Helpers of TestMotoDeploy (moto_deploy_test.go): AWS clients for moto.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// dynamoClient is a DynamoDB client for moto.
func dynamoClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	cfg, err := awsconf.Load(context.Background(), testenv.MotoRegion, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return dynamodb.NewFromConfig(cfg)
}

// awsCLI runs the AWS CLI (and deploy.sh) against moto with dummy
// credentials, ignoring the developer's AWS configuration.
type awsCLI struct {
	t   *testing.T
	env []string
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	var env []string
	for _, kv := range testenv.CleanEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	env = append(env, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION="+testenv.MotoRegion,
		"AWS_ENDPOINT_URL="+endpoint, "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none)
	return &awsCLI{t: t, env: env}
}

// deploySh runs `bash deploy.sh sub` with extraEnv ("K=V") added to the
// environment, and returns its output (stdout and stderr); it must end with
// wantErr (nil: success).
func (c *awsCLI) deploySh(t *testing.T, wantErr error, script, sub string, extraEnv ...string) string {
	t.Helper()
	out := c.run(t, wantErr, extraEnv, "bash", script, sub)
	t.Logf("deploy.sh %s:\n%s", sub, out)
	return out
}

// run runs name with args and extraEnv, and returns its stdout (with
// stderr too for bash); it must end with wantErr (nil: success).
func (c *awsCLI) run(t *testing.T, wantErr error, extraEnv []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(slices.Clone(c.env), extraEnv...)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &stderr
	if name == "bash" {
		cmd.Stderr = &out
	}
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s: %v (%v)", name, strings.Join(args, " "), err, time.Since(start).Round(time.Millisecond))
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s %s: %v, want %v\n%s%s", name, strings.Join(args, " "), err, wantErr, out.String(), stderr.String())
	}
	return out.String()
}

// motoAPI calls moto's query (EC2, CloudFormation), JSON (ACM) and REST (S3)
// APIs over plain HTTP, much faster than the AWS CLI: moto routes a request
// by the credential scope of its Authorization header and checks no signature.
type motoAPI struct {
	t        *testing.T
	endpoint string
}

// do sends one request and returns the answer's body; it must be a 200.
func (m motoAPI) do(method, path, service string, header map[string]string, body string) []byte {
	m.t.Helper()
	req, err := http.NewRequest(method, m.endpoint+path, strings.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/"+testenv.MotoRegion+"/"+service+
		"/aws4_request, SignedHeaders=host, Signature=0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		m.t.Fatalf("moto %s %s %s: %s %v\n%s", service, method, path, resp.Status, err, data)
	}
	return data
}

// motoQueryVersions are the query APIs' versions.
var motoQueryVersions = map[string]string{"ec2": "2016-11-15", "cloudformation": "2010-05-15"}

// query calls a query-protocol action with parameters given as name, value pairs.
func (m motoAPI) query(service, action string, params ...string) []byte {
	m.t.Helper()
	form := url.Values{"Action": {action}, "Version": {motoQueryVersions[service]}}
	for i := 0; i+1 < len(params); i += 2 {
		form.Set(params[i], params[i+1])
	}
	return m.do(http.MethodPost, "/", service, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
}

// field returns the text of the first <name> element of an XML answer.
func (m motoAPI) field(data []byte, name string) string {
	m.t.Helper()
	match := regexp.MustCompile("<" + name + ">([^<]*)</" + name + ">").FindSubmatch(data)
	if match == nil {
		m.t.Fatalf("no <%s> in %s", name, data)
	}
	return string(match[1])
}

// requestCertificate asks moto's ACM for a certificate and returns its ARN.
func (m motoAPI) requestCertificate(domain string) string {
	m.t.Helper()
	data := m.do(http.MethodPost, "/", "acm", map[string]string{
		"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.RequestCertificate",
	}, `{"DomainName":"`+domain+`"}`)
	var out struct{ CertificateArn string }
	if err := json.Unmarshal(data, &out); err != nil || out.CertificateArn == "" {
		m.t.Fatalf("RequestCertificate: %v %s", err, data)
	}
	return out.CertificateArn
}

// stackDescription is the part of DescribeStacks the test reads.
type stackDescription struct {
	StackID     string `xml:"StackId"`
	StackStatus string
	Parameters  []struct{ ParameterKey, ParameterValue string } `xml:"Parameters>member"`
}

// param returns a parameter's value.
func (s stackDescription) param(key string) string {
	for _, p := range s.Parameters {
		if p.ParameterKey == key {
			return p.ParameterValue
		}
	}
	return ""
}

// stack describes one stack by name or id.
func (m motoAPI) stack(nameOrID string) stackDescription {
	m.t.Helper()
	var out struct {
		Stacks []stackDescription `xml:"DescribeStacksResult>Stacks>member"`
	}
	if err := xml.Unmarshal(m.query("cloudformation", "DescribeStacks", "StackName", nameOrID), &out); err != nil || len(out.Stacks) != 1 {
		m.t.Fatalf("DescribeStacks %s: %v, %d stacks", nameOrID, err, len(out.Stacks))
	}
	return out.Stacks[0]
}
