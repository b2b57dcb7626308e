package sqlworker

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/throughline/throughline/warehouse"
)

// Options configure a Pool.
type Options struct {
	// Snapshot is the published snapshot file (warehouse.PublishSnapshot).
	// Workers run in its folder and open it by name.
	Snapshot string
	Workers  int // processes; default 4
	// Timeout bounds a request from Run to its last byte read; a worker
	// that has not answered by then is killed. Default 30s.
	Timeout      time.Duration
	TimeZone     string
	MemoryLimit  string // DuckDB's memory_limit in a worker; default 512MB
	AddressSpace int64  // a worker's address-space limit beyond its size at start; default 2 GiB
	Threads      int    // DuckDB threads per worker; default 1
	Logger       *slog.Logger
	// Command starts a worker process; default: this program again, with
	// only THROUGHLINE_SQL_WORKER=1 in its environment (no tokens). Tests
	// may set it.
	Command func() *exec.Cmd
	// Unguarded turns the guard off in the workers (tests of the other
	// defences only).
	Unguarded bool
	// KillGrace is how long after a request's deadline (or its client's
	// departure) a worker that has not answered is killed; default
	// DefaultKillGrace. The worker interrupts DuckDB first, which answers a
	// clean time-out when DuckDB listens.
	KillGrace time.Duration
}

// Defaults of Options.
const (
	DefaultWorkers      = 4
	DefaultTimeout      = 30 * time.Second
	DefaultMemoryLimit  = "512MB"
	DefaultAddressSpace = 2 << 30
)

// DefaultKillGrace is Options.KillGrace's default.
const DefaultKillGrace = 500 * time.Millisecond

// Pool runs queries in worker processes: a crash, a runaway allocation or a
// planner that does not stop costs one worker, which is replaced, and never
// the server. Workers read the newest published snapshot.
type Pool struct {
	o          Options
	generation atomic.Int64
	idle       chan *proc
	logger     *slog.Logger

	mu     sync.Mutex
	closed bool
	procs  map[*proc]bool
	wg     sync.WaitGroup

	started, died atomic.Int64 // for tests and logs
	busy          atomic.Int64 // requests holding a worker
}

// proc is one worker process.
type proc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser // requests
	out  *bufio.Reader  // answers
	outF *os.File
	// interrupts takes the numbers of requests whose client went away.
	interrupts *os.File
	seq        int64 // of the last request
	stderr     *tail
	exited     chan struct{} // closed when the process has been waited for
	killed     atomic.Bool   // by the pool: its death is expected
	status     string        // how it ended (after exited)
}

// New starts a pool of workers.
func New(o Options) (*Pool, error) {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.KillGrace <= 0 {
		o.KillGrace = DefaultKillGrace
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.AddressSpace == 0 {
		o.AddressSpace = DefaultAddressSpace
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Command == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("sql workers: find this program: %w", err)
		}
		o.Command = func() *exec.Cmd { return exec.Command(exe) }
	}
	p := &Pool{o: o, idle: make(chan *proc, o.Workers), logger: o.Logger.With("component", "sql-worker"), procs: map[*proc]bool{}}
	for range o.Workers {
		w, err := p.start()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.idle <- w
	}
	return p, nil
}

// Publish tells the pool that a (new) snapshot is in place: each worker
// reopens the file before its next query. Until the first call, Run
// answers ErrNoSnapshot.
func (p *Pool) Publish() {
	p.generation.Add(1)
	// Idle workers open the new file now rather than in a client's time;
	// then the old file's space is freed.
	p.wg.Go(func() {
		for range cap(p.idle) {
			var w *proc
			select {
			case w = <-p.idle:
			default:
				return
			}
			p.warmOrReplace(w)
		}
	})
}

// warmOrReplace has w open the current snapshot and gives it back, or
// replaces it when it fails.
func (p *Pool) warmOrReplace(w *proc) {
	if err := p.warm(w); err != nil {
		p.logger.Warn("a SQL worker failed to open the snapshot", "err", err, "stderr", lastLines(w.stderr.String(), 5))
		p.replace(w)
		return
	}
	p.idle <- w
}

// warm has w open the current snapshot, within the pool's time-out.
func (p *Pool) warm(w *proc) error {
	gen := p.generation.Load()
	if gen == 0 {
		return nil
	}
	t := time.AfterFunc(p.o.Timeout, func() { w.killed.Store(true); w.cmd.Process.Kill() })
	defer t.Stop()
	line, _ := json.Marshal(wireRequest{Generation: gen, Remaining: p.o.Timeout, Warm: true})
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return err
	}
	head, err := w.out.ReadBytes('\n')
	if err != nil {
		return err
	}
	var a wireAnswer
	if err := json.Unmarshal(head, &a); err != nil {
		return err
	}
	if a.Code != "" || a.Size != 0 || a.Retire {
		return fmt.Errorf("%s: %s", a.Msg, a.Internal)
	}
	return nil
}

// ErrNoSnapshot reports that no snapshot has been published yet.
var ErrNoSnapshot = errors.New("no snapshot of the warehouse is published yet: the SQL API answers once the server has published its first one")

// Busy is the number of requests holding a worker now.
func (p *Pool) Busy() int { return int(p.busy.Load()) }

// Stats counts worker processes started and died (killed or crashed).
func (p *Pool) Stats() (started, died int64) { return p.started.Load(), p.died.Load() }

func (p *Pool) start() (*proc, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sql worker: pipe: %w", err)
	}
	ansR, ansW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("sql worker: pipe: %w", err)
	}
	intR, intW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		ansR.Close()
		ansW.Close()
		return nil, fmt.Errorf("sql worker: pipe: %w", err)
	}
	cmd := p.o.Command()
	cmd.Env = []string{workerEnv + "=1"}
	cmd.Dir = filepath.Dir(p.o.Snapshot)
	cmd.ExtraFiles = []*os.File{reqR, ansW, intR}
	w := &proc{cmd: cmd, in: reqW, out: bufio.NewReaderSize(ansR, 64<<10), outF: ansR, interrupts: intW, stderr: &tail{max: 8 << 10}, exited: make(chan struct{})}
	cmd.Stdout = io.Discard // DuckDB's profiler prints there
	cmd.Stderr = w.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	reqR.Close()
	ansW.Close()
	intR.Close()
	if err != nil {
		reqW.Close()
		ansR.Close()
		intW.Close()
		return nil, fmt.Errorf("sql worker: start: %w", err)
	}
	cfg, _ := json.Marshal(Config{
		Snapshot: filepath.Base(p.o.Snapshot), TimeZone: p.o.TimeZone, MemoryLimit: p.o.MemoryLimit,
		Threads: p.o.Threads, AddressSpace: p.o.AddressSpace, Timeout: p.o.Timeout, Unguarded: p.o.Unguarded,
	})
	if _, err := reqW.Write(append(cfg, '\n')); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		reqW.Close()
		ansR.Close()
		intW.Close()
		return nil, fmt.Errorf("sql worker: configure: %w", err)
	}
	p.started.Add(1)
	p.mu.Lock()
	p.procs[w] = true
	p.mu.Unlock()
	p.wg.Go(func() {
		err := cmd.Wait()
		w.status = exitStatus(cmd.ProcessState, err)
		reqW.Close()
		ansR.Close()
		intW.Close()
		close(w.exited)
		p.mu.Lock()
		delete(p.procs, w)
		p.mu.Unlock()
	})
	return w, nil
}

// exitStatus says how a process ended.
func exitStatus(ps *os.ProcessState, err error) string {
	if ps == nil {
		return fmt.Sprint(err)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit code %d", ps.ExitCode())
}

// kill ends a worker and waits for it.
func (w *proc) kill() {
	w.killed.Store(true)
	w.cmd.Process.Kill()
	<-w.exited
}

// replace kills w (if alive) and starts another in its place, in the
// background.
func (p *Pool) replace(w *proc) {
	p.died.Add(1)
	p.wg.Go(func() {
		w.kill()
		for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
			if p.isClosed() {
				return
			}
			nw, err := p.start()
			if err == nil && p.isClosed() {
				nw.kill()
				return
			}
			if err == nil {
				if err := p.warm(nw); err != nil {
					p.logger.Warn("a new SQL worker failed to open the snapshot", "err", err)
					nw.kill()
					p.died.Add(1)
					time.Sleep(delay)
					continue
				}
				p.idle <- nw
				return
			}
			p.logger.Error("start a SQL worker", "err", err)
			time.Sleep(delay)
		}
	})
}

// Run answers req in a worker. The time-out runs from this call to the last
// byte of the answer read: a worker still busy at the deadline is killed,
// whatever DuckDB is doing. ctx ending (the client went away) kills it too.
// The answer's Body reads from the worker; Close it (or read it to its end)
// to give the worker back.
func (p *Pool) Run(ctx context.Context, req Request) (*Answer, error) {
	if p.generation.Load() == 0 {
		return nil, ErrNoSnapshot
	}
	deadline := time.Now().Add(p.o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var w *proc
	select {
	case w = <-p.idle:
		p.busy.Add(1)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &warehouse.QueryError{Code: warehouse.CodeTimeout, Msg: "no SQL worker became free within the time-out: the server is busy"}
		}
		return nil, ctx.Err()
	}
	// The worker interrupts DuckDB at the deadline itself; one that has
	// not answered KillGrace later is killed. A client that goes away gets
	// its query interrupted, and killed KillGrace later if it goes on.
	var mu sync.Mutex
	released := false
	done := make(chan struct{})
	finish := func(keep bool) {
		mu.Lock()
		if released {
			mu.Unlock()
			return
		}
		released = true
		mu.Unlock()
		p.busy.Add(-1)
		close(done)
		if keep {
			p.idle <- w
		} else {
			p.replace(w)
		}
	}
	var gone atomic.Bool // the client went away (else: the deadline)
	w.seq++
	seq := w.seq
	go func() {
		killAt := time.NewTimer(time.Until(deadline.Add(p.o.KillGrace)))
		defer killAt.Stop()
		select {
		case <-done:
			return
		case <-killAt.C:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				select { // the caller's deadline is ours: wait for the grace
				case <-done:
					return
				case <-killAt.C:
				}
				break
			}
			gone.Store(true)
			mu.Lock()
			if !released {
				fmt.Fprintf(w.interrupts, "%d\n", seq)
			}
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(p.o.KillGrace):
			}
		}
		mu.Lock()
		if !released {
			w.killed.Store(true)
			w.cmd.Process.Kill()
		}
		mu.Unlock()
	}()
	line, _ := json.Marshal(wireRequest{Request: req, Generation: p.generation.Load(), Remaining: time.Until(deadline), Seq: seq})
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return nil, p.lost(w, gone.Load(), finish, err)
	}
	headLine, err := w.out.ReadBytes('\n')
	if err != nil {
		return nil, p.lost(w, gone.Load(), finish, err)
	}
	var head wireAnswer
	if err := json.Unmarshal(headLine, &head); err != nil {
		finish(false)
		return nil, fmt.Errorf("sql worker: answer: %w", err)
	}
	if head.Code == codeCanceled {
		finish(!head.Retire && head.Size == 0)
		return nil, context.Canceled
	}
	if head.Code != "" {
		finish(!head.Retire && head.Size == 0)
		return nil, p.failed(head)
	}
	body := &answerBody{r: io.LimitReader(w.out, head.Size), left: head.Size, keep: !head.Retire, finish: finish}
	if head.Size == 0 {
		finish(body.keep)
	}
	return &Answer{RowCount: head.RowCount, Truncated: head.Truncated, Size: head.Size, Body: body, close: body.close}, nil
}

// failed turns a worker's error answer into an error.
func (p *Pool) failed(head wireAnswer) error {
	if head.Code == "internal" {
		id := ErrorID()
		p.logger.Error("sql query failed inside DuckDB", "id", id, "err", head.Internal)
		return &InternalError{ID: id, Msg: head.Msg}
	}
	return &warehouse.QueryError{Code: head.Code, Msg: head.Msg}
}

// lost explains a worker that stopped answering: killed (at the deadline,
// or after its client left), or dead (a crash, a limit).
func (p *Pool) lost(w *proc, clientGone bool, finish func(bool), err error) error {
	if w.killed.Load() {
		finish(false)
		if clientGone {
			return context.Canceled
		}
		return &warehouse.QueryError{Code: warehouse.CodeTimeout, Msg: "the query did not finish within its time-out; its worker was stopped"}
	}
	// The pipe ends when the process does: wait for its last words.
	select {
	case <-w.exited:
	case <-time.After(2 * time.Second):
		w.kill()
	}
	finish(false)
	stderr := w.stderr.String()
	switch {
	case strings.Contains(stderr, "CPU-time limit"):
		return &warehouse.QueryError{Code: warehouse.CodeTimeout, Msg: "the query reached its CPU-time limit; its worker was stopped"}
	case strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "cannot allocate memory"):
		return &warehouse.QueryError{Code: warehouse.CodeResourceLimit, Msg: "the query needed more memory than a SQL worker may use: filter, aggregate or add a LIMIT"}
	}
	id := ErrorID()
	p.logger.Error("a SQL worker died during a query", "id", id, "status", w.status, "err", err, "stderr", lastLines(stderr, 12))
	return &InternalError{ID: id, Msg: "the query crashed its SQL worker process (" + w.status + "); the server and other queries are not affected"}
}

// InternalError is a failure that is not the client's: the server log has
// the details under ID.
type InternalError struct {
	ID  string
	Msg string
}

func (e *InternalError) Error() string { return e.Msg + " (error id " + e.ID + " in the server log)" }

// ErrorID is a random id that ties an answer to its server log line.
func ErrorID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// answerBody reads an answer from its worker and gives the worker back
// once the last byte is read; closing it early kills the worker (its pipe
// is mid-answer).
type answerBody struct {
	r      io.Reader
	left   int64
	keep   bool // the worker stays after this answer
	finish func(keep bool)
}

func (b *answerBody) Read(buf []byte) (int, error) {
	n, err := b.r.Read(buf)
	b.left -= int64(n)
	if b.left == 0 {
		b.finish(b.keep)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *answerBody) close() { b.finish(b.keep && b.left == 0) }

// Close stops every worker and waits for them: idle ones exit at the end
// of their request pipe, busy ones are killed after a second.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	procs := make([]*proc, 0, len(p.procs))
	for w := range p.procs {
		procs = append(procs, w)
	}
	p.mu.Unlock()
	for _, w := range procs {
		w.in.Close()
	}
	grace := time.After(time.Second)
	for _, w := range procs {
		select {
		case <-w.exited:
		case <-grace:
			w.killed.Store(true)
			w.cmd.Process.Kill()
		}
	}
	p.wg.Wait()
	return nil
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// tail keeps the last bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
