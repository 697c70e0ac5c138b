package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// MemoryLimitPercent is the share of the container's memory limit that
// ApplyMemoryLimit gives the Go runtime as its soft limit.
const MemoryLimitPercent = 90

// cgroupLimitFiles are where a container's memory limit is read, relative
// to the file system root: cgroup v2's memory.max, then cgroup v1's
// memory.limit_in_bytes.
var cgroupLimitFiles = []string{
	"sys/fs/cgroup/memory.max",
	"sys/fs/cgroup/memory/memory.limit_in_bytes",
}

// noLimitV1 is cgroup v1's "unlimited": at or above it a limit is none.
const noLimitV1 = 1 << 62

// ApplyMemoryLimit sets the Go runtime's soft memory limit to
// MemoryLimitPercent of the container's memory limit when the process has
// one and GOMEMLIMIT is not set. Go keeps memory it freed until it needs
// it again, so after a burst (thousands of event streams opening at once)
// a process's RSS can sit well above its live heap; with a limit the
// runtime collects and returns memory before the container is killed for
// it. It returns the limit it set, or 0 and does nothing when GOMEMLIMIT is
// set or no limit is found. Not checked: a cgroup not mounted at
// /sys/fs/cgroup (a container runtime without a cgroup namespace).
func ApplyMemoryLimit(log *slog.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := containerMemoryLimit("/")
	if limit <= 0 {
		return 0
	}
	soft := limit / 100 * MemoryLimitPercent
	debug.SetMemoryLimit(soft)
	log.Info("Go memory limit set from the container's", "container_bytes", limit, "gomemlimit_bytes", soft)
	return soft
}

// containerMemoryLimit reads the memory limit under root (see
// cgroupLimitFiles), or 0 when there is none ("max", v1's unlimited
// value, no file, or unreadable content).
func containerMemoryLimit(root string) int64 {
	for _, f := range cgroupLimitFiles {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= noLimitV1 {
			return 0
		}
		return n
	}
	return 0
}
