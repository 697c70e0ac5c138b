// Package dynamo is the DynamoDB store of the registration service: one item
// per registered client, keyed by client id, with a sparse global secondary
// index on the metadata hash (reuse of identical public registrations) and a
// TTL attribute (expiry).
//
// What is stored is exactly dcr.Registration: the normalized RFC 7591 §2
// client metadata and bookkeeping. It never stores a client secret (Cognito
// keeps it; RFC 7592 §2.1 reads fetch it from there) nor a plaintext RFC 7592
// registration access token, only its SHA-256 hash: dcr.Registration cannot
// carry either, and this package adds no field that could.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// Attribute and index names. The table's key, index and TTL attribute are
// also declared by the CloudFormation template; keep them in step.
const (
	// AttrClientID is the table's partition key (S): the Cognito app client id.
	AttrClientID = "client_id"
	// AttrMetadata is the normalized client metadata as a JSON string (S).
	AttrMetadata = "metadata"
	// AttrCognitoClientName is the app client's name in Cognito (S).
	AttrCognitoClientName = "cognito_client_name"
	// AttrScopes are the client's allowed scopes (L of S).
	AttrScopes = "scopes"
	// AttrRATHash is the hex SHA-256 of the registration access token (S).
	AttrRATHash = "rat_hash"
	// AttrMetadataHash is IndexMetadataHash's partition key (S); absent on
	// registrations that must not be reused, which keeps the index sparse.
	AttrMetadataHash = "metadata_hash"
	// AttrSource is "dcr" or "cimd" (S).
	AttrSource = "source"
	// AttrCIMDURL is a CIMD client's client_id URL (S).
	AttrCIMDURL = "cimd_url"
	// AttrCreatedAt is the creation time in epoch seconds (N).
	AttrCreatedAt = "created_at"
	// AttrExpiresAt is the expiry in epoch seconds (N) and the table's TTL
	// attribute; absent for registrations that do not expire.
	AttrExpiresAt = "expires_at"
	// AttrVersion is the optimistic-concurrency counter (N).
	AttrVersion = "version"
	// AttrLoopbackCallbacks are the port-specific loopback callback URLs
	// added to the app client (L of M {uri: S, used_at: N epoch seconds}),
	// oldest use first: the eviction order, kept across restarts. Absent
	// when there are none.
	AttrLoopbackCallbacks = "loopback_callbacks"

	// IndexMetadataHash is the global secondary index on AttrMetadataHash
	// (projection ALL).
	IndexMetadataHash = "metadata_hash-index"
)

// API is the part of *dynamodb.Client this package uses; tests may
// substitute a fake.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

var (
	_ API       = (*dynamodb.Client)(nil)
	_ dcr.Store = (*Store)(nil)
)

// Store keeps registrations in one DynamoDB table.
type Store struct {
	api   API
	table string
	now   func() time.Time
}

// New returns a Store on table. Not checked: that the table exists and has
// the expected key and index (CreateTable makes one; CloudFormation in
// production); the first call finds out.
func New(api API, table string) *Store {
	return &Store{api: api, table: table, now: time.Now}
}

// item is the stored form of a dcr.Registration. Times are whole epoch
// seconds (sub-second precision is dropped), zero values are omitted.
type item struct {
	ClientID          string   `dynamodbav:"client_id"`
	Metadata          string   `dynamodbav:"metadata"`
	CognitoClientName string   `dynamodbav:"cognito_client_name,omitempty"`
	Scopes            []string `dynamodbav:"scopes,omitempty"`
	RATHash           string   `dynamodbav:"rat_hash,omitempty"`
	MetadataHash      string   `dynamodbav:"metadata_hash,omitempty"`
	Source            string   `dynamodbav:"source,omitempty"`
	CIMDURL           string   `dynamodbav:"cimd_url,omitempty"`
	CreatedAt         int64    `dynamodbav:"created_at,omitempty"`
	ExpiresAt         int64    `dynamodbav:"expires_at,omitempty"`
	Version           int64    `dynamodbav:"version"`
	// LoopbackCallbacks is AttrLoopbackCallbacks.
	LoopbackCallbacks []callbackItem `dynamodbav:"loopback_callbacks,omitempty"`
}

// callbackItem is the stored form of a dcr.LoopbackCallback.
type callbackItem struct {
	URI    string `dynamodbav:"uri"`
	UsedAt int64  `dynamodbav:"used_at"`
}

func epoch(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromEpoch(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// marshal converts r to a DynamoDB item.
func marshal(r dcr.Registration) (map[string]types.AttributeValue, error) {
	md, err := json.Marshal(r.Metadata)
	if err != nil {
		return nil, fmt.Errorf("encode metadata of %s: %w", r.ClientID, err)
	}
	av, err := attributevalue.MarshalMap(item{
		ClientID:          r.ClientID,
		Metadata:          string(md),
		CognitoClientName: r.CognitoClientName,
		Scopes:            r.Scopes,
		RATHash:           r.RegistrationTokenHash,
		MetadataHash:      r.MetadataHash,
		Source:            r.Source,
		CIMDURL:           r.CIMDURL,
		CreatedAt:         epoch(r.CreatedAt),
		ExpiresAt:         epoch(r.ExpiresAt),
		Version:           r.Version,
		LoopbackCallbacks: callbackItems(r.LoopbackCallbacks),
	})
	if err != nil {
		return nil, fmt.Errorf("encode registration %s: %w", r.ClientID, err)
	}
	return av, nil
}

// unmarshal converts a DynamoDB item back to a dcr.Registration.
func unmarshal(av map[string]types.AttributeValue) (*dcr.Registration, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode registration item: %w", err)
	}
	r := &dcr.Registration{
		ClientID:              it.ClientID,
		CognitoClientName:     it.CognitoClientName,
		Scopes:                it.Scopes,
		RegistrationTokenHash: it.RATHash,
		MetadataHash:          it.MetadataHash,
		Source:                it.Source,
		CIMDURL:               it.CIMDURL,
		CreatedAt:             fromEpoch(it.CreatedAt),
		ExpiresAt:             fromEpoch(it.ExpiresAt),
		Version:               it.Version,
	}
	for _, c := range it.LoopbackCallbacks {
		r.LoopbackCallbacks = append(r.LoopbackCallbacks, dcr.LoopbackCallback{URI: c.URI, UsedAt: fromEpoch(c.UsedAt)})
	}
	if err := json.Unmarshal([]byte(it.Metadata), &r.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", it.ClientID, err)
	}
	return r, nil
}

func callbackItems(cs []dcr.LoopbackCallback) []callbackItem {
	var out []callbackItem
	for _, c := range cs {
		out = append(out, callbackItem{URI: c.URI, UsedAt: epoch(c.UsedAt)})
	}
	return out
}

func key(clientID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrClientID: &types.AttributeValueMemberS{Value: clientID}}
}

// Create stores r if no item has its client id (condition
// attribute_not_exists), else returns an error wrapping dcr.ErrExists.
// Not checked: r's contents (the service builds it).
func (s *Store) Create(ctx context.Context, r dcr.Registration) error {
	if r.ClientID == "" {
		return errors.New("dynamo: create: empty client id")
	}
	av, err := marshal(r)
	if err != nil {
		return fmt.Errorf("dynamo: create: %w", err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     av,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": AttrClientID},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return fmt.Errorf("dynamo: create %s: %w", r.ClientID, dcr.ErrExists)
	case err != nil:
		return fmt.Errorf("dynamo: create %s in %s: %w", r.ClientID, s.table, err)
	}
	return nil
}

// Get reads the registration with a strongly consistent read, or returns an
// error wrapping dcr.ErrNotFound. Not checked: expiry (DynamoDB's TTL removes
// expired items only eventually, within days); callers compare ExpiresAt.
func (s *Store) Get(ctx context.Context, clientID string) (*dcr.Registration, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(clientID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get %s from %s: %w", clientID, s.table, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("dynamo: get %s: %w", clientID, dcr.ErrNotFound)
	}
	r, err := unmarshal(out.Item)
	if err != nil {
		return nil, fmt.Errorf("dynamo: get %s: %w", clientID, err)
	}
	return r, nil
}

// Update replaces the stored item with r if the stored version is
// r.Version-1 (condition on AttrVersion). When the condition fails it reads
// the item again to tell the two cases apart: an error wrapping
// dcr.ErrNotFound if it is gone, dcr.ErrConflict if another writer won.
func (s *Store) Update(ctx context.Context, r dcr.Registration) error {
	av, err := marshal(r)
	if err != nil {
		return fmt.Errorf("dynamo: update: %w", err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      av,
		ConditionExpression:       aws.String("#v = :prev"),
		ExpressionAttributeNames:  map[string]string{"#v": AttrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: fmt.Sprint(r.Version - 1)}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if _, gerr := s.Get(ctx, r.ClientID); errors.Is(gerr, dcr.ErrNotFound) {
			return fmt.Errorf("dynamo: update %s: %w", r.ClientID, dcr.ErrNotFound)
		}
		return fmt.Errorf("dynamo: update %s to version %d: %w", r.ClientID, r.Version, dcr.ErrConflict)
	case err != nil:
		return fmt.Errorf("dynamo: update %s in %s: %w", r.ClientID, s.table, err)
	}
	return nil
}

// Delete removes the registration; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, clientID string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       key(clientID),
	})
	if err != nil {
		return fmt.Errorf("dynamo: delete %s from %s: %w", clientID, s.table, err)
	}
	return nil
}
