package stdio

import "syscall"

// sysProcAttr puts the child in its own process group, so stopping it
// reaches its own children too, and has the kernel kill it if the gateway
// dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
