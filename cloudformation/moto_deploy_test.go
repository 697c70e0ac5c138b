//go:build unix

package cloudformation_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/joho/godotenv"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/cognito/cognitotest"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

// motoStack is the stack the test deploys.
const motoStack = "mcp-moto"

// motoSettings is what a user puts into .env.deploy (on top of
// .env.deploy.example, whose other values are the template's defaults), for
// a VPC, two subnets and an ACM certificate. Adapt it when the template's required parameters change.
func motoSettings(vpc, subnets, certificate string) map[string]string {
	return map[string]string{
		"STACK_NAME":            motoStack,
		"AWS_REGION":            testenv.MotoRegion,
		"CODE_BUCKET":           "mcp-moto-code",
		"GATEWAY_IMAGE":         "123456789012.dkr.ecr.us-east-1.amazonaws.com/mcp-gateway:v1",
		"PublicURL":             "https://mcp.example.com",
		"CertificateArn":        certificate,
		"VpcId":                 vpc,
		"LoadBalancerSubnetIds": subnets,
		"TaskSubnetIds":         subnets,
		"CognitoDomainPrefix":   "mcp-moto",
	}
}

// motoSkipped lists the template's resources (those whose Condition holds
// with motoSettings) that moto 5.2.1 does not create: it has no
// CloudFormation support for Cognito, Secrets Manager, Application Auto
// Scaling or security-group egress rules, and skips them silently.
// cloudformation/README.md repeats this list; the test fails when moto's
// support changes, so that the README stays true.
var motoSkipped = []string{
	"GatewayScalableTarget", // AWS::ApplicationAutoScaling::ScalableTarget
	"GatewayScalingPolicy",  // AWS::ApplicationAutoScaling::ScalingPolicy
	"LoadBalancerToGateway", // AWS::EC2::SecurityGroupEgress
	"ResourceServer",        // AWS::Cognito::UserPoolResourceServer
	"SessionSecret",         // AWS::SecretsManager::Secret
	"UserPool",              // AWS::Cognito::UserPool
	"UserPoolDomain",        // AWS::Cognito::UserPoolDomain
}

// TestMotoDeploy deploys the template into moto_server through
// cloudformation/deploy.sh (the path `make deploy` takes), checks which
// resources moto created, writes .env with `deploy.sh outputs` and loads it
// with both configuration loaders, runs the real mcp-dcr against the stack's
// table, registers a client, and destroys the stack with `deploy.sh destroy`.
//
// moto gaps the test works around (each says so where it happens): moto
// creates no user pool, so the pool comes from the cognito-idp API with the
// template's own properties; `aws cloudformation deploy` leaves moto's stack
// without outputs until an update-stack; moto cannot update a table through
// CloudFormation, so the table's deletion protection is lifted through DynamoDB.
func TestMotoDeploy(t *testing.T) {
	for _, tool := range []string{"aws", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" is not on PATH: install the AWS CLI (pip install awscli) and bash")
		}
	}
	endpoint := testenv.StartMoto(t)
	// moto reads a TemplateURL's bucket from its path only for "localhost"
	// (for 127.0.0.1 it takes "127" as the bucket), and the template is too
	// large for an inline body.
	cli := newAWSCLI(t, strings.Replace(endpoint, "127.0.0.1", "localhost", 1))
	moto := motoAPI{t: t, endpoint: endpoint}
	root := testenv.Root(t)
	dir := t.TempDir()

	vpc := moto.field(moto.query("ec2", "CreateVpc", "CidrBlock", "10.0.0.0/16"), "vpcId")
	var subnets []string
	for i, az := range []string{"a", "b"} {
		subnets = append(subnets, moto.field(moto.query("ec2", "CreateSubnet", "VpcId", vpc,
			"CidrBlock", fmt.Sprintf("10.0.%d.0/24", i), "AvailabilityZone", testenv.MotoRegion+az), "subnetId"))
	}
	// moto's HTTPS listener wants a certificate its ACM knows.
	certificate := moto.requestCertificate("mcp.example.com")
	settings := motoSettings(vpc, strings.Join(subnets, ","), certificate)
	moto.do(http.MethodPut, "/"+settings["CODE_BUCKET"], "s3", nil, "")
	envDeploy := writeEnvDeploy(t, root, dir, settings)
	script := filepath.Join(root, "cloudformation", "deploy.sh")
	deployEnv := []string{"DEPLOY_ENV_FILE=" + envDeploy, "LAMBDA_ZIP=" + lambdaZip(t, dir), "ENV_FILE=" + filepath.Join(dir, ".env")}

	cli.deploySh(t, nil, script, "deploy", deployEnv...)
	if st := moto.stack(motoStack); st.StackStatus != "CREATE_COMPLETE" {
		t.Fatalf("stack status %s", st.StackStatus)
	}
	ids := checkResources(t, moto, settings)

	// moto builds a change-set stack's outputs from an empty template; an
	// update without parameters rebuilds them (and changes nothing).
	moto.query("cloudformation", "UpdateStack", "StackName", motoStack, "UsePreviousTemplate", "true")
	// A hand-written .env is kept unless FORCE=1.
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("MCPGW_LOG_LEVEL=debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := cli.deploySh(t, fmt.Errorf("exit status 1"), script, "outputs", deployEnv...); !strings.Contains(out, "FORCE=1") {
		t.Errorf("outputs over a hand-written .env does not mention FORCE=1:\n%s", out)
	}
	cli.deploySh(t, nil, script, "outputs", append(deployEnv, "FORCE=1")...)
	env := checkOutputs(t, filepath.Join(dir, ".env"), settings, ids["RegistrationsTable"])

	// The stack's pool, had moto created it: the template's own properties
	// through the cognito-idp API.
	api := cognitotest.NewAPI(t, endpoint)
	pool := createPool(t, api, settings)
	checkLoaders(t, filepath.Join(dir, ".env"), env, endpoint, pool)
	registerThroughDCR(t, api, endpoint, dir, pool, ids["RegistrationsTable"])

	checkDestroy(t, cli, moto, script, deployEnv, ids["RegistrationsTable"])
}

// writeEnvDeploy writes .env.deploy.example with settings' values.
func writeEnvDeploy(t *testing.T, root, dir string, settings map[string]string) string {
	t.Helper()
	example, err := os.ReadFile(filepath.Join(root, ".env.deploy.example"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	lines := strings.Split(string(example), "\n")
	for i, line := range lines {
		k, _, ok := strings.Cut(line, "=")
		if v, set := settings[k]; ok && set && !strings.HasPrefix(line, "#") {
			lines[i] = k + "=" + v
			seen[k] = true
		}
	}
	for k := range settings {
		if !seen[k] {
			t.Fatalf(".env.deploy.example has no %s line", k)
		}
	}
	path := filepath.Join(dir, ".env.deploy")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// lambdaZip writes a zip holding a bootstrap file: moto stores the code
// without running it.
func lambdaZip(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("bootstrap")
	if err == nil {
		_, err = w.Write([]byte("#!/bin/sh\n"))
	}
	if err == nil {
		err = zw.Close()
	}
	path := filepath.Join(dir, "mcp-dcr-lambda.zip")
	if err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// checkResources compares the resources moto created with the template's
// (those whose Condition holds) less motoSkipped, and returns logical id ->
// physical id.
func checkResources(t *testing.T, moto motoAPI, settings map[string]string) map[string]string {
	t.Helper()
	var listed struct {
		Summaries []struct{ LogicalResourceId, PhysicalResourceId string } `xml:"ListStackResourcesResult>StackResourceSummaries>member"`
	}
	if err := xml.Unmarshal(moto.query("cloudformation", "ListStackResources", "StackName", motoStack), &listed); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, r := range listed.Summaries {
		if r.LogicalResourceId != "" { // moto lists skipped resources as blank rows
			ids[r.LogicalResourceId] = r.PhysicalResourceId
		}
	}
	params := map[string]string{"CodeBucket": settings["CODE_BUCKET"], "CodeKey": "mcp-dcr/x.zip", "GatewayImage": settings["GATEWAY_IMAGE"]}
	for k, v := range settings {
		if k != strings.ToUpper(k) {
			params[k] = v
		}
	}
	tp := loadTemplate(t)
	s := newStack(t, tp, params)
	var skipped, extra []string
	for id, def := range tp.section(t, "Resources") {
		_, created := ids[id]
		switch exists := s.exists(def.(map[string]any)); {
		case exists && !created:
			skipped = append(skipped, id)
		case !exists && created:
			extra = append(extra, id)
		}
	}
	sort.Strings(skipped)
	if !slices.Equal(skipped, motoSkipped) {
		t.Errorf("moto skipped %q\nthe test (and cloudformation/README.md) say %q", skipped, motoSkipped)
	}
	if len(extra) > 0 {
		t.Errorf("moto created %q, whose Condition is false", extra)
	}
	return ids
}

// checkOutputs reads the .env deploy.sh outputs wrote: stackenv's header,
// the created table's name, the deploy's parameters, and what moto gives for
// the pool it did not create (no MCPDCR_USER_POOL_ID; an issuer naming
// ${UserPool} verbatim).
func checkOutputs(t *testing.T, path string, settings map[string]string, table string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("# Written by tools/stackenv from CloudFormation stack "+motoStack+" at ")) {
		t.Errorf(".env header: %q", strings.SplitN(string(data), "\n", 2)[0])
	}
	env, err := godotenv.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	public := settings["PublicURL"]
	want := map[string]string{
		"MCPDCR_TABLE":                        table,
		"MCPGW_CLIENT_IDS_TABLE":              table,
		"MCPDCR_PUBLIC_URL":                   public,
		"MCPGW_PUBLIC_URL":                    public,
		"MCPGW_AUTHORIZATION_SERVERS":         public,
		"MCPGW_REQUIRED_SCOPES":               public + "/mcp/tools",
		"MCPDCR_REGION":                       testenv.MotoRegion,
		"MCPGW_AWS_REGION":                    testenv.MotoRegion,
		"MCPDCR_COGNITO_DOMAIN":               "https://" + settings["CognitoDomainPrefix"] + ".auth." + testenv.MotoRegion + ".amazoncognito.com",
		"MCPDCR_SUPPORTED_IDENTITY_PROVIDERS": "COGNITO",
		"MCPGW_PROVIDER":                      "cognito",
		"MCPGW_ISSUER":                        "https://cognito-idp." + testenv.MotoRegion + ".amazonaws.com/${UserPool}",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf(".env %s = %q, want %q", k, env[k], v)
		}
	}
	if v, ok := env["MCPDCR_USER_POOL_ID"]; ok || table == "" {
		t.Errorf(".env MCPDCR_USER_POOL_ID = %q (moto creates no pool: the output should be missing); table %q", v, table)
	}
	return env
}

// createPool creates the user pool and resource server moto's CloudFormation
// skipped, from the template's own properties (resolved for settings).
func createPool(t *testing.T, api *cip.Client, settings map[string]string) string {
	t.Helper()
	params := map[string]string{}
	for k, v := range settings {
		if k != strings.ToUpper(k) {
			params[k] = v
		}
	}
	tp := loadTemplate(t)
	s := newStack(t, tp, params)
	var poolIn cip.CreateUserPoolInput
	props := s.eval(at(tp.resource(t, "UserPool"), "Properties")).(map[string]any)
	props["PoolName"] = props["UserPoolName"]
	decodeProps(t, props, &poolIn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := api.CreateUserPool(ctx, &poolIn)
	if err != nil {
		t.Fatalf("CreateUserPool with the template's properties: %v", err)
	}
	pool := aws.ToString(out.UserPool.Id)
	var rsIn cip.CreateResourceServerInput
	decodeProps(t, s.eval(at(tp.resource(t, "ResourceServer"), "Properties")), &rsIn)
	rsIn.UserPoolId = aws.String(pool)
	if _, err := api.CreateResourceServer(ctx, &rsIn); err != nil {
		t.Fatalf("CreateResourceServer with the template's properties: %v", err)
	}
	return pool
}

// decodeProps turns resolved CloudFormation properties (numbers as strings)
// into an SDK input struct: property names match the API's.
func decodeProps(t *testing.T, props any, into any) {
	t.Helper()
	data, err := json.Marshal(props)
	if err == nil {
		data = regexp.MustCompile(`"([0-9]+)"`).ReplaceAll(data, []byte("$1"))
		err = json.Unmarshal(data, into)
	}
	if err != nil {
		t.Fatalf("template properties into %T: %v", into, err)
	}
}

// checkLoaders loads .env with both services' configuration loaders, the
// environment adding only what moto could not provide (the pool) or what a
// local run needs (the emulator's endpoint), and checks the stack's values.
func checkLoaders(t *testing.T, path string, env map[string]string, endpoint, pool string) {
	t.Helper()
	issuer := "https://cognito-idp." + testenv.MotoRegion + ".amazonaws.com/" + pool
	gw, err := config.Load(config.LoadOptions{DotEnv: path, Environ: []string{
		"MCPGW_ISSUER=" + issuer, "MCPGW_AWS_ENDPOINT=" + endpoint,
	}})
	if err != nil {
		t.Fatalf("gateway configuration from .env: %v", err)
	}
	if gw.ClientIDsTable != env["MCPGW_CLIENT_IDS_TABLE"] || gw.PublicURL != env["MCPGW_PUBLIC_URL"] ||
		gw.AWSRegion != testenv.MotoRegion || !slices.Equal(gw.RequiredScopes, []string{env["MCPGW_REQUIRED_SCOPES"]}) {
		t.Errorf("gateway configuration: table %q, public_url %q, region %q, scopes %q", gw.ClientIDsTable, gw.PublicURL, gw.AWSRegion, gw.RequiredScopes)
	}
	dcr, err := config.LoadDCR(config.LoadOptions{DotEnv: path, Environ: []string{
		"MCPDCR_USER_POOL_ID=" + pool, "MCPDCR_AWS_ENDPOINT=" + endpoint,
	}})
	if err != nil {
		t.Fatalf("mcp-dcr configuration from .env: %v", err)
	}
	if dcr.Table != env["MCPDCR_TABLE"] || dcr.PublicURL != env["MCPDCR_PUBLIC_URL"] || dcr.CognitoDomain != env["MCPDCR_COGNITO_DOMAIN"] ||
		!slices.Equal(dcr.SupportedIdentityProviders, []string{"COGNITO"}) {
		t.Errorf("mcp-dcr configuration: table %q, public_url %q, cognito_domain %q, idps %q", dcr.Table, dcr.PublicURL, dcr.CognitoDomain, dcr.SupportedIdentityProviders)
	}
}

// registerThroughDCR runs `mcp-dcr serve` in dir (so it reads the .env
// there) against the stack's table and pool, registers a client, and checks
// that the pool has its app client and the table its row.
func registerThroughDCR(t *testing.T, api *cip.Client, endpoint, dir, pool, table string) {
	t.Helper()
	port := testenv.FreePort(t)
	dcrURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	testenv.Start(t, testenv.ProcessSpec{
		Name: "mcp-dcr", Path: testenv.BuildDCR(t), Args: []string{"serve"}, Dir: dir,
		Env: []string{
			fmt.Sprintf("MCPDCR_LISTEN=127.0.0.1:%d", port),
			"MCPDCR_PUBLIC_URL=" + dcrURL, // not behind the load balancer's https origin
			"MCPDCR_USER_POOL_ID=" + pool,
			"MCPDCR_AWS_ENDPOINT=" + endpoint,
			"MCPDCR_MANAGED_LOGIN_BRANDING=false", // CreateManagedLoginBranding is not emulated by moto
		},
		ReadyURL: dcrURL + "/.well-known/oauth-authorization-server",
	})
	body := `{"client_name":"moto-deploy","redirect_uris":["http://127.0.0.1:33418/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(dcrURL+"/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated || reg.ClientID == "" {
		t.Fatalf("POST /register: %s, %v, %+v", resp.Status, err, reg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(reg.ClientID)}); err != nil {
		t.Errorf("app client %s is not in pool %s: %v", reg.ClientID, pool, err)
	}
	item, err := dynamoClient(t, endpoint).GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key:       map[string]ddbtypes.AttributeValue{"client_id": &ddbtypes.AttributeValueMemberS{Value: reg.ClientID}},
	})
	if err != nil || len(item.Item) == 0 {
		t.Errorf("no row for client %s in the stack's table %s: %v", reg.ClientID, table, err)
	}
}

// checkDestroy checks `deploy.sh destroy`: refused without CONFIRM; with it, the
// stack is updated to DeletionProtection=INACTIVE, then deleted.
func checkDestroy(t *testing.T, cli *awsCLI, moto motoAPI, script string, deployEnv []string, table string) {
	t.Helper()
	stackID := moto.stack(motoStack).StackID
	out := cli.deploySh(t, fmt.Errorf("exit status 1"), script, "destroy", deployEnv...)
	for _, want := range []string{"registrations table    " + table, "re-run with CONFIRM=" + motoStack} {
		if !strings.Contains(out, want) {
			t.Errorf("destroy without CONFIRM does not say %q:\n%s", want, out)
		}
	}
	// moto has no CloudFormation update for a DynamoDB table: the stack update
	// to DeletionProtection=INACTIVE does not reach it, so do what AWS would.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := dynamoClient(t, moto.endpoint).UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	cli.deploySh(t, nil, script, "destroy", append(deployEnv, "CONFIRM="+motoStack)...)
	// A deleted stack is still described by its id.
	if st := moto.stack(stackID); st.StackStatus != "DELETE_COMPLETE" || st.param("DeletionProtection") != "INACTIVE" {
		t.Errorf("after destroy: %s with DeletionProtection %q, want DELETE_COMPLETE with INACTIVE", st.StackStatus, st.param("DeletionProtection"))
	}
}
