package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestContainerMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 limit", map[string]string{"sys/fs/cgroup/memory.max": "536870912\n"}, 536870912},
		{"v2 unlimited", map[string]string{"sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"v1 limit", map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, 1073741824},
		{"v1 unlimited", map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"v2 wins over v1", map[string]string{"sys/fs/cgroup/memory.max": "max", "sys/fs/cgroup/memory/memory.limit_in_bytes": "1024"}, 0},
		{"garbage", map[string]string{"sys/fs/cgroup/memory.max": "lots"}, 0},
		{"no cgroup", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := containerMemoryLimit(root); got != tc.want {
				t.Fatalf("containerMemoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestApplyMemoryLimitLeavesGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "100MiB")
	if got := ApplyMemoryLimit(NewLogger("error", "text")); got != 0 {
		t.Fatalf("ApplyMemoryLimit with GOMEMLIMIT set = %d, want 0 (untouched)", got)
	}
}
