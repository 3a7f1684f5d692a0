package notificationhubs

import (
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/nhkit/notificationhubs/internal/nhpipeline"
)

// The admin package reaches the client's pipeline through nhpipeline.
func init() { nhpipeline.New = newNamespacePipeline }

// newNamespacePipeline builds a client for the namespace itself, whose
// paths are relative to the endpoint and whose tokens cover the whole
// namespace, and lends its pipeline.
func newNamespacePipeline(endpoint string, credential any, o nhpipeline.Options) (*nhpipeline.Pipeline, error) {
	cred, ok := credential.(*SharedAccessKeyCredential)
	if !ok || cred == nil {
		return nil, errors.New("new client: credential is nil")
	}
	c, err := newClient(endpoint, "", cred, &ClientOptions{
		ClientOptions: o.ClientOptions,
		APIVersion:    o.APIVersion,
		TokenLifetime: o.TokenLifetime,
		DebugWriter:   o.DebugWriter,
	})
	if err != nil {
		return nil, err
	}
	return &nhpipeline.Pipeline{
		Endpoint:   c.endpoint.String(),
		APIVersion: c.apiVersion,
		NewRequest: c.newRequest,
		Do: func(req *policy.Request, ok ...int) (*http.Response, error) {
			return c.do(req, true, ok...)
		},
	}, nil
}
