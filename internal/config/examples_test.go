package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

var godotenvRead = godotenv.Read

// TestExampleConfigsLoad keeps examples/config honest: each IdP example
// loads and validates with the provider it names.
func TestExampleConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../examples/config/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(LoadOptions{File: f, Environ: []string{}, DotEnv: os.DevNull})
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Base(f[:len(f)-len(".yaml")]); c.Provider != want {
				t.Fatalf("provider %q in %s", c.Provider, f)
			}
		})
	}
}

// TestEnvExampleListsEveryKey keeps .env.example complete and loadable.
func TestEnvExampleListsEveryKey(t *testing.T) {
	vars, err := godotenvRead("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		name := EnvPrefix + "_" + strings.ToUpper(k)
		if _, ok := vars[name]; !ok {
			t.Errorf(".env.example does not list %s", name)
		}
	}
	for name := range vars {
		if strings.HasPrefix(name, DCREnvPrefix+"_") {
			continue // checked by TestEnvExampleListsEveryDCRKey
		}
		if !slices.Contains(Keys(), strings.ToLower(strings.TrimPrefix(name, EnvPrefix+"_"))) {
			t.Errorf(".env.example lists unknown %s", name)
		}
	}
	if _, err := Load(LoadOptions{DotEnv: "../../.env.example", Environ: []string{}}); err != nil {
		t.Fatalf(".env.example does not load: %v", err)
	}
}
