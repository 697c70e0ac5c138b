package cognito

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// fakeAPI records every input and answers from its fields.
type fakeAPI struct {
	mu sync.Mutex

	creates   []*cip.CreateUserPoolClientInput
	updates   []*cip.UpdateUserPoolClientInput
	deletes   []*cip.DeleteUserPoolClientInput
	describes []*cip.DescribeUserPoolClientInput
	brandings []*cip.CreateManagedLoginBrandingInput
	lists     []*cip.ListResourceServersInput

	createErr, updateErr, deleteErr, describeErr, brandErr error
	secret                                                 string
	// pages are ListResourceServers answers, in order; page i's NextToken is
	// "p<i+1>" unless it is the last.
	pages [][]types.ResourceServerType
	n     int
}

var _ API = (*fakeAPI)(nil)

func (f *fakeAPI) CreateUserPoolClient(_ context.Context, in *cip.CreateUserPoolClientInput, _ ...func(*cip.Options)) (*cip.CreateUserPoolClientOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, in)
	if f.createErr != nil {
		return nil, f.createErr
	}
	f.n++
	c := &types.UserPoolClientType{ClientId: aws.String(fmt.Sprintf("client%d", f.n)), UserPoolId: in.UserPoolId}
	if in.GenerateSecret {
		c.ClientSecret = aws.String("secret-of-client")
	}
	return &cip.CreateUserPoolClientOutput{UserPoolClient: c}, nil
}

func (f *fakeAPI) UpdateUserPoolClient(_ context.Context, in *cip.UpdateUserPoolClientInput, _ ...func(*cip.Options)) (*cip.UpdateUserPoolClientOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, in)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return &cip.UpdateUserPoolClientOutput{UserPoolClient: &types.UserPoolClientType{ClientId: in.ClientId}}, nil
}

func (f *fakeAPI) DeleteUserPoolClient(_ context.Context, in *cip.DeleteUserPoolClientInput, _ ...func(*cip.Options)) (*cip.DeleteUserPoolClientOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes = append(f.deletes, in)
	if f.deleteErr != nil {
		return nil, f.deleteErr
	}
	return &cip.DeleteUserPoolClientOutput{}, nil
}

func (f *fakeAPI) DescribeUserPoolClient(_ context.Context, in *cip.DescribeUserPoolClientInput, _ ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes = append(f.describes, in)
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	c := &types.UserPoolClientType{ClientId: in.ClientId}
	if f.secret != "" {
		c.ClientSecret = aws.String(f.secret)
	}
	return &cip.DescribeUserPoolClientOutput{UserPoolClient: c}, nil
}

func (f *fakeAPI) CreateManagedLoginBranding(_ context.Context, in *cip.CreateManagedLoginBrandingInput, _ ...func(*cip.Options)) (*cip.CreateManagedLoginBrandingOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.brandings = append(f.brandings, in)
	if f.brandErr != nil {
		return nil, f.brandErr
	}
	return &cip.CreateManagedLoginBrandingOutput{}, nil
}

func (f *fakeAPI) ListResourceServers(_ context.Context, in *cip.ListResourceServersInput, _ ...func(*cip.Options)) (*cip.ListResourceServersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, in)
	i := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		if _, err := fmt.Sscanf(tok, "p%d", &i); err != nil {
			return nil, fmt.Errorf("fake: bad token %q", tok)
		}
	}
	out := &cip.ListResourceServersOutput{}
	if i < len(f.pages) {
		out.ResourceServers = f.pages[i]
	}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(fmt.Sprintf("p%d", i+1))
	}
	return out, nil
}
