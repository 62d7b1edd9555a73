package boltstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/goleak"

	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/boltstore"
	"github.com/paddock-lb/paddock/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTemp(t testing.TB, opts boltstore.Options) (*boltstore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "paddock.db")
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t, boltstore.Options{})
		return s
	})
}

func put(k, v string) store.Op { return store.Op{Key: k, Value: []byte(v)} }

func TestReopenKeepsDataAndRevision(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t, boltstore.Options{})
	if _, err := s.Txn(ctx, nil, []store.Op{put("a", "1"), put("b", "2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Txn(ctx, nil, []store.Op{put("a", "3"), {Key: "b", Delete: true}, put("c", "")}); err != nil {
		t.Fatal(err)
	}
	want, wantRev, err := s.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, gotRev, err := s.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotRev != wantRev || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen: %v at rev %d, want %v at rev %d", got, gotRev, want, wantRev)
	}
	if rev, _ := s.Rev(ctx); rev != wantRev {
		t.Fatalf("Rev after reopen = %d, want %d", rev, wantRev)
	}
	// History does not survive a restart; watching from the restart
	// revision does.
	if _, err := s.Watch(ctx, "", wantRev-1); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from before restart: err = %v, want ErrCompacted", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.Watch(wctx, "", wantRev)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Txn(ctx, []store.Cond{{Key: "a", ModRev: wantRev}}, []store.Op{put("a", "4")})
	if err != nil || rev != wantRev+1 {
		t.Fatalf("Txn after reopen = %d, %v; want %d", rev, err, wantRev+1)
	}
	select {
	case ev := <-ch:
		if ev.KV.Key != "a" || ev.KV.ModRev != rev {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after reopen")
	}
}

func TestOpenLocked(t *testing.T) {
	s, path := openTemp(t, boltstore.Options{})
	defer s.Close()
	start := time.Now()
	s2, err := boltstore.Open(path, boltstore.Options{LockTimeout: 100 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "open bolt db "+path) {
		t.Fatalf("err = %v, want a wrapped bbolt timeout naming the file", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("locked Open took %v", d)
	}
}

func TestOpenNotABoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := boltstore.Open(path, boltstore.Options{}); err == nil {
		s.Close()
		t.Fatal("Open of a junk file succeeded")
	}
}

// TestGroupCommitIsolation runs conflicting and non-conflicting Txns
// concurrently so they share batches: conflicts must fail alone and
// succeed-ers must be applied exactly once.
func TestGroupCommitIsolation(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t, boltstore.Options{})
	defer s.Close()
	const workers, each = 32, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				key := fmt.Sprintf("g/%02d/%02d", w, i)
				if w%2 == 1 {
					// Always conflicts: the key is never created.
					_, err := s.Txn(ctx, []store.Cond{{Key: key, ModRev: 1}}, []store.Op{put(key, "bad")})
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("conflicting Txn: %v", err)
					}
					continue
				}
				rev, err := s.Txn(ctx, []store.Cond{{Key: key, ModRev: 0}}, []store.Op{put(key, "ok"), put(fmt.Sprintf("g/%02d/count", w), strconv.Itoa(i+1))})
				if err != nil {
					t.Errorf("Txn %s: %v", key, err)
					continue
				}
				// Creating again must now conflict.
				if _, err := s.Txn(ctx, []store.Cond{{Key: key, ModRev: 0}}, []store.Op{put(key, "twice")}); !errors.Is(err, store.ErrConflict) {
					t.Errorf("second create of %s: %v", key, err)
				}
				kv, err := s.Get(ctx, key)
				if err != nil || string(kv.Value) != "ok" || kv.ModRev != rev {
					t.Errorf("Get(%s) = %+v, %v; want ok at %d", key, kv, err, rev)
				}
			}
		})
	}
	wg.Wait()
	kvs, rev, err := s.List(ctx, "g/", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := workers / 2 * (each + 1); len(kvs) != want {
		t.Errorf("%d keys, want %d", len(kvs), want)
	}
	for _, kv := range kvs {
		if strings.HasSuffix(kv.Key, "/count") {
			if string(kv.Value) != strconv.Itoa(each) {
				t.Errorf("%s = %s, want %d", kv.Key, kv.Value, each)
			}
		} else if string(kv.Value) != "ok" {
			t.Errorf("%s = %s", kv.Key, kv.Value)
		}
	}
	if want := int64(workers / 2 * each); rev != want {
		t.Errorf("rev = %d, want %d (one per successful Txn)", rev, want)
	}
}

const (
	crashEnvPath  = "PADDOCK_BOLTSTORE_CRASH_DB"
	crashEnvRound = "PADDOCK_BOLTSTORE_CRASH_ROUND"
	crashWorkers  = 8
	crashMaxEach  = 20000
)

func crashKey(round, w, i int) string { return fmt.Sprintf("crash/%d/%d/%06d", round, w, i) }
func crashLast(round, w int) string   { return fmt.Sprintf("crash/%d/last/%d", round, w) }

// crashValue is deterministic and large enough to force page splits.
func crashValue(key string) []byte {
	return []byte(strings.Repeat(key+";", 1+len(key)%7*10))
}

// TestCrashHelper is the child process of TestCrashDurability: it writes
// until killed, printing "ack <worker> <i> ." after each Txn returns.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	if path == "" {
		t.Skip("helper process for TestCrashDurability")
	}
	round, err := strconv.Atoi(os.Getenv(crashEnvRound))
	if err != nil {
		t.Fatal(err)
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for w := range crashWorkers {
		wg.Go(func() {
			for i := 0; i < crashMaxEach && time.Now().Before(deadline); i++ {
				key := crashKey(round, w, i)
				_, err := s.Txn(ctx, []store.Cond{{Key: key, ModRev: 0}}, []store.Op{
					{Key: key, Value: crashValue(key)},
					put(crashLast(round, w), strconv.Itoa(i)),
				})
				if err != nil {
					t.Errorf("Txn: %v", err)
					return
				}
				mu.Lock()
				// One write(2) of a short line: the pipe delivers it whole
				// or not at all.
				fmt.Fprintf(os.Stdout, "ack %d %d .\n", w, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashDurability SIGKILLs a writer process mid-burst, several times
// on the same file, and checks that every acknowledged write survived and
// the file is consistent.
func TestCrashDurability(t *testing.T) {
	if os.Getenv(crashEnvPath) != "" {
		t.Skip("running as the helper")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	var totalAcks int
	for round := range 3 {
		acked := runCrashChild(t, path, round, 150+200*round)
		totalAcks += len(acked)
		verifyCrashRound(t, path, round, acked)
		t.Logf("round %d: %d acknowledged writes survived", round, len(acked))
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rev, _ := s.Rev(t.Context()); rev < int64(totalAcks) {
		t.Errorf("rev %d below the %d acknowledged Txns", rev, totalAcks)
	}
}

// runCrashChild starts the helper, kills it after killAfter acks, and
// returns the acknowledged (worker, i) pairs.
func runCrashChild(t *testing.T, path string, round, killAfter int) map[[2]int]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvRound+"="+strconv.Itoa(round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()

	acked := map[[2]int]bool{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var w, i int
		var end string
		if n, _ := fmt.Sscanf(sc.Text(), "ack %d %d %s", &w, &i, &end); n != 3 || end != "." {
			continue // test framework output, or a line cut by the kill
		}
		acked[[2]int{w, i}] = true
		if len(acked) == killAfter && !killed {
			// Mid-burst: the workers are still writing.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper ended before %d acks (got %d): %v\n%s", killAfter, len(acked), err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("helper was not killed by a signal: %v\n%s", cmd.ProcessState, stderr.String())
	}
	return acked
}

func verifyCrashRound(t *testing.T, path string, round int, acked map[[2]int]bool) {
	t.Helper()
	ctx := t.Context()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	rev, err := s.Rev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	maxI := map[int]int{}
	for wi := range acked {
		w, i := wi[0], wi[1]
		maxI[w] = max(maxI[w], i)
		key := crashKey(round, w, i)
		kv, err := s.Get(ctx, key)
		if err != nil {
			t.Errorf("acknowledged %s lost: %v", key, err)
			continue
		}
		if !bytes.Equal(kv.Value, crashValue(key)) || kv.ModRev < 1 || kv.ModRev > rev {
			t.Errorf("acknowledged %s: bad value or ModRev %d (rev %d)", key, kv.ModRev, rev)
		}
	}
	for w, i := range maxI {
		kv, err := s.Get(ctx, crashLast(round, w))
		if err != nil {
			t.Errorf("worker %d progress key: %v", w, err)
			continue
		}
		if n, _ := strconv.Atoi(string(kv.Value)); n < i {
			t.Errorf("worker %d progress %d behind acknowledged %d", w, n, i)
		}
	}
	// The store is writable after the crash.
	if _, err := s.Txn(ctx, nil, []store.Op{put(fmt.Sprintf("crash/%d/after", round), "x")}); err != nil {
		t.Errorf("Txn after crash: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt consistency check: %v", err)
	}
}
