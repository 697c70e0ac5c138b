package stdio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"
)

// stderrLineMax cuts long stderr lines before they are logged.
const stderrLineMax = 4096

// stdinWriteTimeout bounds one write to a child that stopped reading.
const stdinWriteTimeout = 30 * time.Second

// errStdoutLine means the child wrote a stdout line over MaxMessageBytes.
var errStdoutLine = errors.New("stdout line exceeds the message size limit")

// process is one running child: its pipes, the goroutines reading them and
// the one waiting for it.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	log     *slog.Logger

	writeMu sync.Mutex
	stdin   *os.File

	stopOnce sync.Once
	stopping chan struct{} // closed when the gateway asked it to stop
	exited   chan struct{} // closed after Wait returned and the readers ended
}

// childEnv is the child's whole environment: PATH, HOME and LANG from the
// gateway, then extra (later keys win), sorted for reproducibility.
func childEnv(extra ...map[string]string) []string {
	env := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	for _, m := range extra {
		for k, v := range m {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// startProcess starts argv with env in dir; now stamps its start. onLine
// gets every stdout line (without the newline) from a single goroutine;
// onExit is called once, after the process was reaped and stdout was read to
// its end. wg counts the goroutines started here.
func startProcess(argv, env []string, dir string, maxLine int, now func() time.Time, log *slog.Logger, wg *sync.WaitGroup,
	onLine func([]byte), onExit func(*process, error)) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	var files []*os.File
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return
	}
	closeAll := func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	inR, inW, err1 := pipe()
	outR, outW, err2 := pipe()
	errR, errW, err3 := pipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		closeAll()
		return nil, fmt.Errorf("stdio: pipes: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("stdio: start %s: %w", argv[0], err)
	}
	// The child holds its ends now.
	_ = inR.Close()
	_ = outW.Close()
	_ = errW.Close()
	p := &process{
		cmd: cmd, pid: cmd.Process.Pid, started: now(),
		log:      log.With("pid", cmd.Process.Pid),
		stdin:    inW,
		stopping: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	stdoutDone := make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(stdoutDone)
		defer outR.Close()
		if err := readLines(outR, maxLine, onLine); err != nil {
			p.log.Warn("stdio upstream: bad stdout, stopping the process", "err", err)
			p.kill()
		}
	}()
	go func() {
		defer wg.Done()
		defer errR.Close()
		p.logStderr(errR)
	}()
	go func() {
		defer wg.Done()
		err := cmd.Wait()
		// Grandchildren may still hold stdout open: end the whole group.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		select {
		case <-stdoutDone:
		case <-time.After(2 * time.Second):
			_ = outR.Close()
			<-stdoutDone
		}
		_ = p.stdin.Close()
		close(p.exited)
		onExit(p, err)
	}()
	return p, nil
}

// readLines calls onLine for each non-empty line of r. It returns nil at
// EOF or when r is closed, errStdoutLine for a line over max.
func readLines(r io.Reader, max int, onLine func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return errStdoutLine
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && err == nil {
			onLine(bytes.Clone(t))
		}
		line = line[:0]
		if err != nil {
			return nil // EOF, or the pipe was closed
		}
	}
}

// logStderr logs each stderr line of the child, cut at stderrLineMax.
func (p *process) logStderr(r io.Reader) {
	br := bufio.NewReaderSize(r, stderrLineMax)
	for {
		line, err := br.ReadSlice('\n')
		truncated := errors.Is(err, bufio.ErrBufferFull)
		if t := bytes.TrimRight(line, "\r\n"); len(t) > 0 {
			p.log.Info("stdio upstream stderr", "line", string(t), "truncated", truncated)
		}
		for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of a long line
			_, err = br.ReadSlice('\n')
		}
		if err != nil {
			return
		}
	}
}

// write sends one message line to the child's stdin.
func (p *process) write(msg []byte) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	select {
	case <-p.exited:
		return errors.New("stdio: process has exited")
	default:
	}
	_ = p.stdin.SetWriteDeadline(time.Now().Add(stdinWriteTimeout))
	buf := make([]byte, 0, len(msg)+1)
	buf = append(append(buf, msg...), '\n')
	if _, err := p.stdin.Write(buf); err != nil {
		return fmt.Errorf("stdio: write to pid %d: %w", p.pid, err)
	}
	return nil
}

// stopRequested reports whether the gateway asked the process to stop.
func (p *process) stopRequested() bool {
	select {
	case <-p.stopping:
		return true
	default:
		return false
	}
}

// kill ends the process group at once (protocol violations); the exit
// counts as a crash.
func (p *process) kill() {
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
}

// stop closes stdin and sends SIGTERM to the process group, SIGKILL after
// grace, and waits until the process is reaped (MCP 2025-11-25, "Lifecycle",
// stdio shutdown). Safe to call many times and concurrently.
func (p *process) stop(grace time.Duration) {
	p.stopOnce.Do(func() { close(p.stopping) })
	select {
	case <-p.exited:
		return
	default:
	}
	// Closing is safe during a blocked write: the write fails.
	_ = p.stdin.Close()
	_ = syscall.Kill(-p.pid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		return
	case <-t.C:
	}
	p.log.Warn("stdio upstream: no exit after SIGTERM, sending SIGKILL", "grace", grace)
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	<-p.exited
}
