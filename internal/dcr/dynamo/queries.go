package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// FindByMetadataHash returns the newest unexpired registration whose
// AttrMetadataHash is hash, querying IndexMetadataHash (all pages), or an
// error wrapping dcr.ErrNotFound. Global secondary indexes are eventually
// consistent: a registration written a moment ago may not be found yet, so
// two identical registrations racing can both create an app client (harmless,
// bounded by the rate limit). Expired items that DynamoDB's TTL has not
// removed yet are skipped.
func (s *Store) FindByMetadataHash(ctx context.Context, hash string) (*dcr.Registration, error) {
	if hash == "" {
		return nil, fmt.Errorf("dynamo: find by empty metadata hash: %w", dcr.ErrNotFound)
	}
	now := s.now()
	var best *dcr.Registration
	p := dynamodb.NewQueryPaginator(s.api, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexMetadataHash),
		KeyConditionExpression:    aws.String("#h = :h"),
		ExpressionAttributeNames:  map[string]string{"#h": AttrMetadataHash},
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: hash}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: query %s on %s: %w", IndexMetadataHash, s.table, err)
		}
		for _, av := range page.Items {
			r, err := unmarshal(av)
			if err != nil {
				return nil, fmt.Errorf("dynamo: find by metadata hash: %w", err)
			}
			if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
				continue
			}
			if best == nil || r.CreatedAt.After(best.CreatedAt) {
				best = r
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("dynamo: find by metadata hash: %w", dcr.ErrNotFound)
	}
	return best, nil
}

// Expired returns up to limit registrations (all when limit <= 0) whose
// AttrExpiresAt is before now, in no particular order. It is a Scan with a
// filter: it reads the whole table (every item costs read capacity, whether
// it matches or not). Below Cognito's 1,000-app-client quota that is at most
// a few hundred kilobytes per garbage-collection run, which is fine; a much
// larger table would want an index on expiry instead.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]dcr.Registration, error) {
	var out []dcr.Registration
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("#e < :now"),
		ExpressionAttributeNames:  map[string]string{"#e": AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamo: scan %s for expired registrations: %w", s.table, err)
		}
		for _, av := range page.Items {
			r, err := unmarshal(av)
			if err != nil {
				return nil, fmt.Errorf("dynamo: expired: %w", err)
			}
			out = append(out, *r)
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Count returns the number of items in the table, expired ones not yet
// removed included (they still hold a Cognito app client until gc runs),
// with a paginated Scan using Select COUNT. Like Expired, it reads the whole
// table; fine below the app-client quota.
func (s *Store) Count(ctx context.Context) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(s.api, &dynamodb.ScanInput{
		TableName: aws.String(s.table),
		Select:    types.SelectCount,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("dynamo: count %s: %w", s.table, err)
		}
		n += int(page.Count)
	}
	return n, nil
}
