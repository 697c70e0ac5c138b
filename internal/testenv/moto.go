//go:build unix

package testenv

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// MotoInstallCommand installs the moto version the tests were checked against.
const MotoInstallCommand = "pip install 'moto[server]==5.2.1'"

// MotoRegion is the region every moto-backed test uses; moto's Cognito
// tokens carry iss=https://cognito-idp.<MotoRegion>.amazonaws.com/<pool>.
const MotoRegion = "us-east-1"

// StartMoto starts one moto_server (an AWS emulator: Cognito, DynamoDB and
// more on a single port) on 127.0.0.1 at a free port, waits until
// GET /moto-api/ answers 200, and returns its endpoint,
// "http://127.0.0.1:<port>", for aws-sdk-go-v2's BaseEndpoint with static
// credentials and region MotoRegion. The server is stopped (by process group
// id) when the test ends; each call starts a fresh server with empty state.
//
// When moto_server is not on PATH the test is skipped on a developer machine
// and failed under CI=true, naming MotoInstallCommand. Moto validates almost
// nothing (no Cognito callback-URL rules, no quotas, no managed-login
// branding): tests of the project's own rules must not rely on it.
func StartMoto(t testing.TB) (endpoint string) {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		SkipOrFail(t, "moto_server is not on PATH: install it with `"+MotoInstallCommand+"`")
	}
	port := FreePort(t)
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	Start(t, ProcessSpec{
		Name:     "moto",
		Path:     path,
		Args:     []string{"-H", "127.0.0.1", "-p", fmt.Sprint(port)},
		ReadyURL: endpoint + "/moto-api/",
		Timeout:  60 * time.Second,
	})
	return endpoint
}
