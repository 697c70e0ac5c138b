// Command stackenv writes a CloudFormation stack's outputs as a .env file
// that both services read (`make outputs`):
//
//	go run ./tools/stackenv -stack mcp-gateway            # runs aws cloudformation describe-stacks
//	go run ./tools/stackenv -stack mcp-gateway -in ds.json # or reads its JSON answer ("-": stdin)
//
// Every Output's Description starts with exactly one configuration key and
// ": " (e.g. "MCPGW_ISSUER: the access tokens' iss"); the key must be one
// the gateway (MCPGW_*) or mcp-dcr (MCPDCR_*) configuration in
// internal/config reads. stackenv writes KEY=value lines sorted by key,
// quoted so that github.com/joho/godotenv reads them back unchanged, under a
// header naming the stack and the time. It refuses (exit 1, every problem
// listed) an output without a key, a key twice, an unknown key, a secret key
// (outputs hold no secrets, and stackenv never writes one), and a stack not
// in CREATE_COMPLETE/UPDATE_COMPLETE. It does not overwrite a file that it
// did not write (first line Marker) unless -force.
//
// Not checked: whether the values are valid configuration (the services'
// own loaders validate them when they start).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// awsTimeout bounds the describe-stacks call.
const awsTimeout = 60 * time.Second

// options are the command-line flags.
type options struct {
	stack, in, out, aws, region, endpoint string
	force                                 bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

// run is main with its dependencies injected; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("stackenv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.stack, "stack", "", "CloudFormation stack name (required)")
	fs.StringVar(&o.in, "in", "", "read the describe-stacks JSON from this file (\"-\": stdin) instead of running the AWS CLI")
	fs.StringVar(&o.out, "out", ".env", "file to write (\"-\": stdout)")
	fs.BoolVar(&o.force, "force", false, "overwrite a file that stackenv did not write")
	fs.StringVar(&o.aws, "aws", "aws", "the AWS CLI")
	fs.StringVar(&o.region, "region", "", "AWS region (passed to the AWS CLI as --region)")
	fs.StringVar(&o.endpoint, "endpoint-url", "", "AWS endpoint (passed to the AWS CLI as --endpoint-url; for emulators)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.stack == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: stackenv -stack NAME [-in FILE] [-out .env] [-force] [-region R] [-endpoint-url URL]")
		return 2
	}
	if err := write(o, stdin, stdout, now()); err != nil {
		fmt.Fprintln(stderr, "stackenv:", err)
		return 1
	}
	if o.out != "-" {
		fmt.Fprintf(stderr, "stackenv: wrote %s from stack %s\n", o.out, o.stack)
	}
	return 0
}

// write does the work of one run.
func write(o options, stdin io.Reader, stdout io.Writer, at time.Time) error {
	if o.out != "-" && !o.force {
		if err := checkOverwrite(o.out); err != nil {
			return err
		}
	}
	data, err := describe(o, stdin)
	if err != nil {
		return err
	}
	outs, err := stackOutputs(data, o.stack)
	if err != nil {
		return err
	}
	es, err := entries(outs, KnownKeys())
	if err != nil {
		return err
	}
	text, err := render(o.stack, at, es)
	if err != nil {
		return err
	}
	if o.out == "-" {
		_, err := stdout.Write(text)
		return err
	}
	return writeFile(o.out, text)
}

// checkOverwrite refuses to replace an existing file whose first line is not
// stackenv's Marker (a hand-written .env).
func checkOverwrite(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, []byte(Marker)) {
		return fmt.Errorf("%s exists and was not written by stackenv: move it away, or overwrite it with -force (make outputs FORCE=1)", path)
	}
	return nil
}

// describe returns the describe-stacks JSON: from o.in, or from the AWS CLI.
func describe(o options, stdin io.Reader) ([]byte, error) {
	switch o.in {
	case "-":
		return io.ReadAll(stdin)
	case "":
	default:
		return os.ReadFile(o.in)
	}
	args := []string{"cloudformation", "describe-stacks", "--stack-name", o.stack, "--output", "json"}
	if o.region != "" {
		args = append(args, "--region", o.region)
	}
	if o.endpoint != "" {
		args = append(args, "--endpoint-url", o.endpoint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), awsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.aws, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w\n%s", o.aws, args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// writeFile replaces path with text atomically (a temporary file in the same
// directory, then a rename), mode 0600.
func writeFile(path string, text []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".stackenv-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
