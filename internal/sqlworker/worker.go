package sqlworker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/throughline/throughline/warehouse"
)

// workerEnv marks a process started as a SQL worker.
const workerEnv = "THROUGHLINE_SQL_WORKER"

// IsWorker reports whether this process was started by a Pool as a worker.
// main (and TestMain of a package whose tests start a Pool) call Main then.
func IsWorker() bool { return os.Getenv(workerEnv) == "1" }

// Exit codes of a worker process.
const (
	exitDone    = 0 // the pool closed the request pipe, or the worker retired
	exitBroken  = 1 // it could not read its configuration or write an answer
	exitCPU     = 3 // it reached its CPU-time limit
	exitStartup = 4 // it could not set its limits
)

// Config is what a worker gets from its pool, as the first line on its
// request pipe.
type Config struct {
	// Snapshot is the published snapshot's file, relative to the worker's
	// folder (the pool starts it in the snapshot's folder).
	Snapshot    string `json:"snapshot"`
	TimeZone    string `json:"time_zone"`
	MemoryLimit string `json:"memory_limit"` // DuckDB's memory_limit
	Threads     int    `json:"threads"`
	// AddressSpace is how much address space (RLIMIT_AS) the worker may
	// add to what it maps once the snapshot is open; 0: no limit.
	AddressSpace int64 `json:"address_space"`
	// Timeout bounds each query: the worker interrupts DuckDB at it, and
	// its CPU-time limit (RLIMIT_CPU) is that much more than it has used.
	Timeout time.Duration `json:"timeout"`
	// Unguarded lets every statement past the guard, to test the other
	// defences alone. Only tests set it.
	Unguarded bool `json:"unguarded"`
}

// wireRequest is one request on the pipe.
type wireRequest struct {
	Request
	Generation int64         `json:"generation"` // of the snapshot to read
	Remaining  time.Duration `json:"remaining"`  // of the request's time; 0: Config.Timeout
	Warm       bool          `json:"warm"`       // only open the snapshot; answer nothing
	Seq        int64         `json:"seq"`        // names the request on the interrupt pipe
}

// codeCanceled answers a query interrupted because its client went away.
const codeCanceled = "canceled"

// wireAnswer heads each answer on the pipe; Size bytes of body follow.
type wireAnswer struct {
	RowCount  int    `json:"row_count"`
	Truncated bool   `json:"truncated"`
	Size      int64  `json:"size"`
	Code      string `json:"code,omitempty"`     // a refused or failed query: warehouse.Code… or "internal"
	Msg       string `json:"msg,omitempty"`      // for the client
	Internal  string `json:"internal,omitempty"` // for the server log only
	Retire    bool   `json:"retire,omitempty"`   // the worker exits after this answer
}

// Main runs a worker process: it reads requests from file descriptor 3,
// writes answers to file descriptor 4 and reads the numbers of requests to
// interrupt from file descriptor 5, until the pool closes the pipes. Its
// standard output and error are the pool's to log. It returns the exit code.
func Main() int {
	in := bufio.NewReader(os.NewFile(3, "requests"))
	out := bufio.NewWriter(os.NewFile(4, "answers"))
	line, err := in.ReadBytes('\n')
	if err != nil {
		fmt.Fprintf(os.Stderr, "sql worker: read the configuration: %v\n", err)
		return exitBroken
	}
	var cfg Config
	if err := json.Unmarshal(line, &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "sql worker: configuration: %v\n", err)
		return exitBroken
	}
	// SIGXCPU at the CPU-time limit: the Go runtime ignores it unless asked.
	xcpu := make(chan os.Signal, 1)
	signal.Notify(xcpu, syscall.SIGXCPU)
	go func() {
		<-xcpu
		fmt.Fprintln(os.Stderr, "sql worker: CPU-time limit reached")
		os.Exit(exitCPU)
	}()
	w := &worker{cfg: cfg}
	defer w.close()
	// The interrupt pipe names requests whose client went away: the one in
	// flight stops (a late name of a finished request does nothing).
	go func() {
		sc := bufio.NewScanner(os.NewFile(5, "interrupts"))
		for sc.Scan() {
			seq, err := strconv.ParseInt(sc.Text(), 10, 64)
			if err != nil {
				continue
			}
			w.mu.Lock()
			if w.cancel != nil && w.seq == seq {
				w.cancel()
			}
			w.mu.Unlock()
		}
	}()
	for {
		line, err := in.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return exitDone
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sql worker: read a request: %v\n", err)
			return exitBroken
		}
		var req wireRequest
		if err := json.Unmarshal(line, &req); err != nil {
			fmt.Fprintf(os.Stderr, "sql worker: request: %v\n", err)
			return exitBroken
		}
		head, body, fatal := w.serve(req)
		if fatal != nil {
			fmt.Fprintf(os.Stderr, "sql worker: %v\n", fatal)
			return exitStartup
		}
		h, _ := json.Marshal(head)
		out.Write(h)
		out.WriteByte('\n')
		out.Write(body)
		if err := out.Flush(); err != nil {
			fmt.Fprintf(os.Stderr, "sql worker: write an answer: %v\n", err)
			return exitBroken
		}
		if head.Retire {
			return exitDone
		}
	}
}

// worker is the state of a worker process.
type worker struct {
	cfg         Config
	mu          sync.Mutex
	cancel      context.CancelFunc // of the query in flight
	seq         int64              // its number
	db          *warehouse.DB
	guard       *warehouse.Guard
	fingerprint string
	generation  int64
	limited     bool // RLIMIT_AS set
}

func (w *worker) close() {
	if w.db != nil {
		w.db.Close()
		w.db = nil
	}
}

// open (re)opens the snapshot for generation gen.
func (w *worker) open(ctx context.Context, gen int64) error {
	w.close()
	db, err := warehouse.OpenSnapshot(ctx, w.cfg.Snapshot, warehouse.Options{
		TimeZone: w.cfg.TimeZone, MemoryLimit: w.cfg.MemoryLimit, Threads: w.cfg.Threads})
	if err != nil {
		return err
	}
	// Every query gets a new connection: what one leaves in its session
	// (setseed, …) is gone for the next.
	db.SetMaxIdleConns(0)
	// The guard depends on the DuckDB build and the snapshot's catalogue
	// name, which stay: build it once.
	if w.guard == nil {
		w.guard, err = warehouse.NewGuard(ctx, db.DB)
		if err != nil {
			db.Close()
			return err
		}
		if w.cfg.Unguarded {
			w.guard = warehouse.Unguarded()
		}
	}
	fp, err := warehouse.SettingsFingerprint(ctx, db.DB)
	if err != nil {
		db.Close()
		return err
	}
	w.db, w.fingerprint, w.generation = db, fp, gen
	if !w.limited && w.cfg.AddressSpace > 0 {
		size, err := vmSize()
		if err != nil {
			return err
		}
		lim := uint64(size + w.cfg.AddressSpace)
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim}); err != nil {
			return fmt.Errorf("address-space limit: %w", err)
		}
		w.limited = true
	}
	return nil
}

// serve answers one request. A non-nil fatal error ends the worker.
func (w *worker) serve(req wireRequest) (head wireAnswer, body []byte, fatal error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.mu.Lock()
	w.cancel, w.seq = cancel, req.Seq
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
	}()
	timeout := w.cfg.Timeout
	if req.Remaining > 0 && (timeout == 0 || req.Remaining < timeout) {
		timeout = req.Remaining
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := limitCPU(timeout); err != nil {
			return head, nil, err
		}
	}
	if w.db == nil || req.Generation != w.generation {
		// Opening is not interrupted (a half-open database is no use to
		// the next query); a client that left meanwhile is seen after it.
		open, cancel := context.WithTimeout(context.Background(), max(timeout, time.Minute))
		err := w.open(open, req.Generation)
		cancel()
		if err != nil {
			return wireAnswer{Code: "internal", Msg: "the SQL worker could not open the snapshot", Internal: err.Error(), Retire: true}, nil, nil
		}
	}
	if req.Warm {
		return head, nil, nil
	}
	if ctx.Err() != nil {
		return failure(ctx.Err()), nil, nil
	}
	a, body, err := w.run(ctx, req.Request)
	if err != nil {
		head = failure(err)
	} else {
		head = wireAnswer{RowCount: a.RowCount, Truncated: a.Truncated, Size: a.Size}
	}
	// A query that changed a database-wide setting (enable_logging(),
	// enable_profiling(), …) would affect the next client's: retire.
	if fp, err := warehouse.SettingsFingerprint(context.Background(), w.db.DB); err != nil || fp != w.fingerprint {
		head.Retire = true
	}
	return head, body, nil
}

func (w *worker) run(ctx context.Context, req Request) (*Answer, []byte, error) {
	c, err := w.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	return encode(ctx, c, w.guard, req)
}

// failure is the answer to a failed query.
func failure(err error) wireAnswer {
	if errors.Is(err, context.Canceled) {
		return wireAnswer{Code: codeCanceled, Msg: "the client went away"}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return wireAnswer{Code: warehouse.CodeTimeout, Msg: "the query did not start within its time-out"}
	}
	var qe *warehouse.QueryError
	if errors.As(err, &qe) {
		// Out of memory leaves the allocator in an unknown state.
		return wireAnswer{Code: qe.Code, Msg: qe.Msg, Retire: qe.Code == warehouse.CodeResourceLimit}
	}
	return wireAnswer{Code: "internal", Msg: "the query failed inside DuckDB", Internal: err.Error(), Retire: true}
}

// limitCPU sets the soft CPU-time limit to what the process has used plus d
// (rounded up, plus a second): past it the kernel sends SIGXCPU.
func limitCPU(d time.Duration) error {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("cpu time: %w", err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CPU, &lim); err != nil {
		return fmt.Errorf("cpu-time limit: %w", err)
	}
	used := ru.Utime.Sec + ru.Stime.Sec + 1
	lim.Cur = min(uint64(used)+uint64((d+time.Second-1)/time.Second)+1, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_CPU, &lim); err != nil {
		return fmt.Errorf("cpu-time limit: %w", err)
	}
	return nil
}

// vmSize is the process's mapped address space in bytes.
func vmSize() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmSize:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}
