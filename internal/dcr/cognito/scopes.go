package cognito

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// listPageSize is ListResourceServers' MaxResults (Cognito allows 1-50).
const listPageSize = 50

// ResourceServerScopes returns every custom scope of the pool's resource
// servers as Cognito names it in tokens, "<identifier>/<scope>", sorted and
// without duplicates, reading all pages of ListResourceServers. It feeds the
// RFC 8414 §2 scopes_supported of the metadata document and the policy's
// allowed scopes. OIDC scopes (openid, email, profile) and
// aws.cognito.signin.user.admin are not resource-server scopes and are not
// listed; offline_access does not exist in Cognito.
func (c *Clients) ResourceServerScopes(ctx context.Context) ([]string, error) {
	var scopes []string
	p := cip.NewListResourceServersPaginator(c.api, &cip.ListResourceServersInput{
		UserPoolId: aws.String(c.opts.UserPoolID),
		MaxResults: aws.Int32(listPageSize),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list resource servers", err)
		}
		for _, rs := range page.ResourceServers {
			id := aws.ToString(rs.Identifier)
			for _, s := range rs.Scopes {
				if name := aws.ToString(s.ScopeName); id != "" && name != "" {
					scopes = append(scopes, id+"/"+name)
				}
			}
		}
	}
	slices.Sort(scopes)
	return slices.Compact(scopes), nil
}
