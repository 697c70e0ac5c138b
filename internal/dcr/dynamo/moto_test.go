//go:build unix

package dynamo_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mcp-gateway/mcp-gateway/internal/awsconf"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/dcr/dynamo"
	"github.com/mcp-gateway/mcp-gateway/internal/testenv"
)

const table = "mcp-dcr-test"

// setup starts moto, creates the table twice (idempotent) and returns a
// store on it plus the raw client.
func setup(t *testing.T) (*dynamo.Store, *dynamodb.Client) {
	t.Helper()
	cfg, err := awsconf.Load(context.Background(), testenv.MotoRegion, testenv.StartMoto(t))
	if err != nil {
		t.Fatal(err)
	}
	api := dynamodb.NewFromConfig(cfg)
	for i := range 2 {
		if err := dynamo.CreateTable(context.Background(), api, table); err != nil {
			t.Fatalf("CreateTable #%d: %v", i+1, err)
		}
	}
	return dynamo.New(api, table), api
}

func reg(id, hash string, created, expires time.Time) dcr.Registration {
	return dcr.Registration{
		ClientID:              id,
		Metadata:              dcr.ClientMetadata{RedirectURIs: []string{"http://localhost:1/cb"}, TokenEndpointAuthMethod: "none", ClientName: id},
		CognitoClientName:     id,
		Scopes:                []string{"mcp/tools"},
		RegistrationTokenHash: "hash-of-" + id,
		MetadataHash:          hash,
		Source:                "dcr",
		CreatedAt:             created,
		ExpiresAt:             expires,
		Version:               1,
	}
}

// TestTableShape proves CreateTable made the key, index, billing mode and TTL
// the rest of the system (and the CloudFormation template) expect.
func TestTableShape(t *testing.T) {
	_, api := setup(t)
	ctx := context.Background()
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table
	if tb.TableStatus != types.TableStatusActive || len(tb.KeySchema) != 1 || aws.ToString(tb.KeySchema[0].AttributeName) != dynamo.AttrClientID {
		t.Errorf("table = %+v", tb)
	}
	if len(tb.GlobalSecondaryIndexes) != 1 || aws.ToString(tb.GlobalSecondaryIndexes[0].IndexName) != dynamo.IndexMetadataHash {
		t.Errorf("indexes = %+v", tb.GlobalSecondaryIndexes)
	}
	if tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing = %+v", tb.BillingModeSummary)
	}
	ttl, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != dynamo.AttrExpiresAt || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v", ttl.TimeToLiveDescription)
	}
}

// TestStoreCRUD covers create, exists, get, not found, update, conflict,
// update of a missing item, and idempotent delete.
func TestStoreCRUD(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	r := reg("client-a", "h1", now, now.Add(time.Hour))

	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, r); !errors.Is(err, dcr.ErrExists) {
		t.Fatalf("second Create = %v, want ErrExists", err)
	}
	got, err := s.Get(ctx, "client-a")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, r) {
		t.Errorf("Get:\n got %+v\nwant %+v", *got, r)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, dcr.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}

	upd := *got
	upd.Version = 2
	upd.Metadata.RedirectURIs = []string{"https://vscode.dev/redirect"}
	upd.MetadataHash = ""
	if err := s.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "client-a"); !reflect.DeepEqual(*got, upd) {
		t.Errorf("after Update: %+v", *got)
	}
	stale := upd // a second writer that read version 1
	if err := s.Update(ctx, stale); !errors.Is(err, dcr.ErrConflict) {
		t.Errorf("stale Update = %v, want ErrConflict", err)
	}
	ghost := reg("ghost", "", now, time.Time{})
	ghost.Version = 2
	if err := s.Update(ctx, ghost); !errors.Is(err, dcr.ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}

	for range 2 {
		if err := s.Delete(ctx, "client-a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, "client-a"); !errors.Is(err, dcr.ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
}

// TestStoreQueries covers FindByMetadataHash (newest unexpired wins, expired
// ignored, unknown hash), Expired with and without a limit, and Count.
func TestStoreQueries(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	regs := []dcr.Registration{
		reg("old-live", "same", now.Add(-2*time.Hour), now.Add(time.Hour)),
		reg("new-live", "same", now.Add(-time.Hour), now.Add(time.Hour)),
		reg("newest-expired", "same", now.Add(-time.Minute), now.Add(-time.Second)),
		reg("only-expired", "gone", now.Add(-3*time.Hour), now.Add(-time.Hour)),
		reg("forever", "", now, time.Time{}),
	}
	for _, r := range regs {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.FindByMetadataHash(ctx, "same")
	if err != nil || got.ClientID != "new-live" {
		t.Errorf("FindByMetadataHash(same) = %+v, %v; want new-live", got, err)
	}
	for _, h := range []string{"gone", "unknown", ""} {
		if _, err := s.FindByMetadataHash(ctx, h); !errors.Is(err, dcr.ErrNotFound) {
			t.Errorf("FindByMetadataHash(%q) = %v, want ErrNotFound", h, err)
		}
	}

	exp, err := s.Expired(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range exp {
		ids = append(ids, r.ClientID)
	}
	sort.Strings(ids)
	if strings.Join(ids, ",") != "newest-expired,only-expired" {
		t.Errorf("Expired = %v", ids)
	}
	if exp, err := s.Expired(ctx, now, 1); err != nil || len(exp) != 1 {
		t.Errorf("Expired(limit 1) = %d, %v", len(exp), err)
	}
	if exp, err := s.Expired(ctx, now.Add(2*time.Hour), 0); err != nil || len(exp) != 4 {
		t.Errorf("Expired(in 2h) = %d, %v; want 4 (forever never expires)", len(exp), err)
	}

	if n, err := s.Count(ctx); err != nil || n != len(regs) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(regs))
	}
}

// TestNoSecretsStored registers with a known registration access token hash
// and proves, by a raw Scan of every attribute, that neither the plaintext
// token nor anything secret-looking reaches the table: only the hash.
func TestNoSecretsStored(t *testing.T) {
	s, api := setup(t)
	ctx := context.Background()
	const (
		plaintextRAT = "rat-plaintext-4f1c9e0d"
		ratHash      = "b1946ac92492d2347c6235b4d2611184" // stands in for SHA-256(plaintextRAT)
		clientSecret = "client-secret-7e2a"
	)
	r := reg("client-s", "h", time.Now(), time.Now().Add(time.Hour))
	r.RegistrationTokenHash = ratHash
	r.Metadata.ClientName = "app" // metadata has no secret field; make sure nothing leaks in by name
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	out, err := api.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items", len(out.Items))
	}
	sawHash := false
	for name, v := range out.Items[0] {
		text := strings.ToLower(name + "=" + flatten(v))
		for _, bad := range []string{plaintextRAT, clientSecret, "secret", "registration_access_token"} {
			if strings.Contains(text, strings.ToLower(bad)) {
				t.Errorf("attribute %s contains %q", name, bad)
			}
		}
		if strings.Contains(text, ratHash) {
			sawHash = true
		}
	}
	if !sawHash {
		t.Error("the registration access token hash is not stored")
	}
}

func flatten(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberL:
		var parts []string
		for _, e := range v.Value {
			parts = append(parts, flatten(e))
		}
		return strings.Join(parts, " ")
	case *types.AttributeValueMemberM:
		var parts []string
		for k, e := range v.Value {
			parts = append(parts, k+"="+flatten(e))
		}
		return strings.Join(parts, " ")
	default:
		return ""
	}
}
