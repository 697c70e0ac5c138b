package dynamo

import (
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

var (
	created = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

	fullReg = dcr.Registration{
		ClientID: "4tj1example",
		Metadata: dcr.ClientMetadata{
			RedirectURIs:            []string{"http://localhost:53100/callback"},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "Claude Code",
			Scope:                   "mcp/tools",
		},
		CognitoClientName:     "Claude Code",
		Scopes:                []string{"mcp/tools"},
		RegistrationTokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		MetadataHash:          "c0ffee",
		Source:                "dcr",
		CreatedAt:             created,
		ExpiresAt:             created.Add(30 * 24 * time.Hour),
		Version:               3,
	}
	cimdReg = dcr.Registration{
		ClientID: "7abcexample",
		Metadata: dcr.ClientMetadata{RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}, TokenEndpointAuthMethod: "none"},
		Source:   "cimd",
		CIMDURL:  "https://claude.ai/oauth/mcp-client.json",
		Version:  1,
	}
)

// callbackReg is a CIMD registration with port-specific loopback callbacks.
var callbackReg = dcr.Registration{
	ClientID: "9cccexample",
	Metadata: dcr.ClientMetadata{RedirectURIs: []string{"http://localhost/callback", "http://127.0.0.1/callback"},
		TokenEndpointAuthMethod: "none", ApplicationType: "native"},
	Source:  "cimd",
	CIMDURL: "https://claude.ai/oauth/claude-code-client-metadata",
	LoopbackCallbacks: []dcr.LoopbackCallback{
		{URI: "http://localhost:54321/callback", UsedAt: created},
		{URI: "http://127.0.0.1:61000/callback", UsedAt: created.Add(time.Minute)},
	},
	Version: 4,
}

// render shows an item with its DynamoDB types, for golden files.
func render(av map[string]types.AttributeValue) map[string]string {
	out := map[string]string{}
	var one func(v types.AttributeValue) string
	one = func(v types.AttributeValue) string {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			return "S:" + v.Value
		case *types.AttributeValueMemberN:
			return "N:" + v.Value
		case *types.AttributeValueMemberL:
			s := "L:["
			for i, e := range v.Value {
				if i > 0 {
					s += ","
				}
				s += one(e)
			}
			return s + "]"
		case *types.AttributeValueMemberM:
			keys := make([]string, 0, len(v.Value))
			for k := range v.Value {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			s := "M:{"
			for i, k := range keys {
				if i > 0 {
					s += ","
				}
				s += k + "=" + one(v.Value[k])
			}
			return s + "}"
		default:
			return fmt.Sprintf("%T", v)
		}
	}
	for k, v := range av {
		out[k] = one(v)
	}
	return out
}

// TestItemRoundTrip pins the stored shape (golden files: attribute names and
// DynamoDB types the CloudFormation template and the gateway rely on) and
// proves that what is read back equals what was written, with empty
// attributes omitted (metadata_hash must be absent, not "", for the sparse
// index).
func TestItemRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		reg    dcr.Registration
		absent []string
	}{
		{name: "full", reg: fullReg},
		{name: "cimd", reg: cimdReg, absent: []string{AttrMetadataHash, AttrRATHash, AttrExpiresAt, AttrCreatedAt, AttrScopes, AttrLoopbackCallbacks}},
		{name: "callbacks", reg: callbackReg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			av, err := marshal(tc.reg)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tc.absent {
				if _, ok := av[a]; ok {
					t.Errorf("attribute %s present, want it omitted", a)
				}
			}
			got, err := unmarshal(av)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.reg) {
				t.Errorf("round trip:\n got %+v\nwant %+v", *got, tc.reg)
			}
			testkit.GoldenJSON(t, filepath.Join("testdata", "item_"+tc.name+".json"), render(av)) // map keys come out sorted
		})
	}
}

func TestTimesAreEpochSeconds(t *testing.T) {
	r := fullReg
	r.CreatedAt = created.Add(1500 * time.Millisecond)
	av, err := marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := unmarshal(av)
	if err != nil {
		t.Fatal(err)
	}
	if want := created.Add(time.Second); !got.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v (truncated to seconds)", got.CreatedAt, want)
	}
}
