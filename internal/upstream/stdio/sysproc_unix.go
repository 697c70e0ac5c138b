//go:build unix && !linux

package stdio

import "syscall"

// sysProcAttr puts the child in its own process group, so stopping it
// reaches its own children too.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
